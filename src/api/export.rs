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
        w.write_record(&self.header).map_err(io)?;
        for row in &self.rows {
            let mut r = row.clone();
            r.resize(self.header.len(), String::new());
            w.write_record(&r).map_err(io)?;
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
