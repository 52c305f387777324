//! Reading a register: the first sheet of an XLSX workbook, or a CSV file, as rows of
//! text cells numbered as the spreadsheet numbers them (row 1 the headers, columns A,
//! B, …). Formulas give their cached values (never evaluated), date cells give ISO
//! dates, text typed in a legacy Vietnamese font is converted, and all text is NFC.

use calamine::{Data, DataType, Reader, Xlsx};

use super::legacy::{self, Legacy};
use crate::domain::validation::{Message, msg};

/// The most data rows a register may have.
pub const MAX_ROWS: usize = 100_000;
/// The largest register accepted, in bytes.
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

/// One row of a register: its number in the spreadsheet and its cells, left to right
/// from column A.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<String>,
}

impl Row {
    /// The trimmed text of column `i` (empty when the row is shorter).
    pub fn cell(&self, i: usize) -> &str {
        self.cells.get(i).map(|c| c.trim()).unwrap_or("")
    }
}

/// A register as read: the header row and the data rows (blank rows left out, their
/// numbers kept), and the legacy encoding its text was converted from, if any.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub headers: Row,
    pub rows: Vec<Row>,
    pub encoding: Option<Legacy>,
}

/// The spreadsheet's name of column `i` (0 → "A", 26 → "AA").
pub fn column_letter(i: usize) -> String {
    let mut n = i + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

/// Reads `bytes` as a register: XLSX when it has the ZIP signature, else CSV (UTF-8 with
/// or without a byte-order mark; bytes that are not UTF-8 are taken as the Windows code
/// page a legacy-font CSV is saved in). One message when the file cannot be a register.
pub fn read(bytes: &[u8]) -> Result<Sheet, Message> {
    if bytes.len() > MAX_BYTES {
        return Err(msg::file_too_large(MAX_BYTES));
    }
    let grid = if bytes.starts_with(b"PK\x03\x04") { xlsx_grid(bytes)? } else { csv_grid(bytes)? };
    let mut rows = grid.into_iter().filter(|r| r.cells.iter().any(|c| !c.trim().is_empty()));
    let headers = rows.next().ok_or_else(msg::file_empty)?;
    let rows: Vec<Row> = rows.collect();
    if rows.is_empty() {
        return Err(msg::file_empty());
    }
    if rows.len() > MAX_ROWS {
        return Err(msg::register_rows(MAX_ROWS as i64));
    }
    let cells = std::iter::once(&headers).chain(&rows).flat_map(|r| r.cells.iter().map(String::as_str));
    let encoding = match legacy::detect(cells) {
        Ok(e) => e,
        Err(bad) => {
            let (line, column) = locate(&headers, &rows, bad.cell);
            return Err(msg::text_unreadable(line, &column));
        }
    };
    let convert = |r: Row| Row { line: r.line, cells: r.cells.iter().map(|c| legacy::convert(c, encoding)).collect() };
    Ok(Sheet { headers: convert(headers), rows: rows.into_iter().map(convert).collect(), encoding })
}

/// The row and column of the `n`th cell counted over the headers and then the rows.
fn locate(headers: &Row, rows: &[Row], mut n: usize) -> (usize, String) {
    for r in std::iter::once(headers).chain(rows) {
        if n < r.cells.len() {
            return (r.line, column_letter(n));
        }
        n -= r.cells.len();
    }
    (headers.line, column_letter(0))
}

fn csv_grid(bytes: &[u8]) -> Result<Vec<Row>, Message> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // UTF-16, a binary file, a PDF or a workbook of another kind (.xls, .ods are ZIP or
    // OLE files): not a CSV people can fix by hand.
    if bytes.contains(&0) || bytes.starts_with(b"%PDF") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(msg::not_a_register());
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => legacy::latin1(bytes),
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|_| msg::not_a_register())?;
        out.push(Row { line: i + 1, cells: record.iter().map(str::to_string).collect() });
        if out.len() > MAX_ROWS + 1 {
            return Err(msg::register_rows(MAX_ROWS as i64));
        }
    }
    Ok(out)
}

fn xlsx_grid(bytes: &[u8]) -> Result<Vec<Row>, Message> {
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| msg::not_a_register())?;
    let range = match book.worksheet_range_at(0) {
        None => return Err(msg::file_empty()),
        Some(r) => r.map_err(|_| msg::not_a_register())?,
    };
    if range.height() > MAX_ROWS + 1 {
        return Err(msg::register_rows(MAX_ROWS as i64));
    }
    // The range starts at its first filled cell, not at A1.
    let (top, left) = range.start().map(|(r, c)| (r as usize, c as usize)).unwrap_or((0, 0));
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, r)| {
            let cells = std::iter::repeat_n(String::new(), left).chain(r.iter().map(cell_text)).collect();
            Row { line: top + i + 1, cells }
        })
        .collect())
}

/// A cell as text: a date as `YYYY-MM-DD`, a whole number without a decimal point, an
/// error value as Excel shows it.
fn cell_text(c: &Data) -> String {
    match c {
        Data::DateTime(_) | Data::DateTimeIso(_) => c.as_date().map(|d| d.to_string()).unwrap_or_default(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workbook(rows: &[&[&str]], at: (u32, u16)) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                sheet.write_string(at.0 + r as u32, at.1 + c as u16, *cell).unwrap();
            }
        }
        book.save_to_buffer().unwrap()
    }

    #[test]
    fn columns_are_named_as_spreadsheets_name_them() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(5), "F");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27 * 26), "AAA");
    }

    #[test]
    fn csv_and_xlsx_give_the_same_rows_numbered_as_in_the_sheet() {
        let csv = "\u{feff}Số hồ sơ gốc,Họ tên\n,\nHS-1,Nguyễn Văn An\n";
        let from_csv = read(csv.as_bytes()).unwrap();
        assert_eq!(from_csv.headers.cells, ["Số hồ sơ gốc", "Họ tên"]);
        assert_eq!(from_csv.rows, [Row { line: 3, cells: vec!["HS-1".into(), "Nguyễn Văn An".into()] }]);
        assert_eq!(from_csv.encoding, None);
        // A sheet whose first filled cell is B2 still numbers rows and columns from A1.
        let xlsx = workbook(&[&["Số hồ sơ gốc", "Họ tên"], &["HS-1", "Nguyễn Văn An"]], (1, 1));
        let from_xlsx = read(&xlsx).unwrap();
        assert_eq!(from_xlsx.headers.line, 2);
        assert_eq!(from_xlsx.rows[0].line, 3);
        assert_eq!(from_xlsx.rows[0].cell(1), "HS-1");
        assert_eq!(from_xlsx.rows[0].cell(2), "Nguyễn Văn An");
    }

    #[test]
    fn dates_numbers_and_formulas_are_read_as_values() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
        sheet.write_string(0, 0, "Ngày phát hiện").unwrap();
        sheet.write_string(0, 1, "Số").unwrap();
        sheet.write_string(0, 2, "Công thức").unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
        sheet.write_datetime_with_format(1, 0, day, &date).unwrap();
        sheet.write_number(1, 1, 42.0).unwrap();
        sheet.write_formula(1, 2, rust_xlsxwriter::Formula::new("=1+1").set_result("cached")).unwrap();
        let read = read(&book.save_to_buffer().unwrap()).unwrap();
        assert_eq!(read.rows[0].cells, ["2024-03-15", "42", "cached"]);
    }

    #[test]
    fn legacy_text_is_converted_and_all_text_is_nfc() {
        // A CSV saved from a .VnTime sheet: Windows-1252 bytes, not UTF-8.
        let mut bytes = b"H\xb5 N\xe9i,ghi ch\xfa\n".to_vec();
        bytes.extend_from_slice(b"Ph\xad\xeang Ho\xb5n Ki\xd5m,1\n");
        let sheet = read(&bytes).unwrap();
        assert_eq!(sheet.encoding, Some(Legacy::Tcvn3));
        assert_eq!(sheet.headers.cells[0], "Hà Nội");
        assert_eq!(sheet.rows[0].cells[0], "Phường Hoàn Kiếm");
        let decomposed = "Ha\u{300} No\u{302}\u{323}i,x\nmo\u{302}\u{323}t,y\n";
        let sheet = read(decomposed.as_bytes()).unwrap();
        assert_eq!(sheet.headers.cells[0], "Hà Nội");
        assert_eq!(sheet.rows[0].cells[0], "một");
    }

    #[test]
    fn files_that_are_not_registers_are_refused_with_one_message() {
        assert_eq!(read(b"").unwrap_err().key, "file-empty");
        assert_eq!(read(b"Ho ten\n").unwrap_err().key, "file-empty", "headers and no rows");
        assert_eq!(read(b"PK\x03\x04 not a workbook").unwrap_err().key, "not-a-register");
        assert_eq!(read(b"\xff\xfeH\x00o\x00").unwrap_err().key, "not-a-register");
        assert_eq!(read(b"%PDF-1.4 a scan of the register").unwrap_err().key, "not-a-register");
        let big = vec![b'a'; MAX_BYTES + 1];
        assert_eq!(read(&big).unwrap_err().key, "file-too-large");
        let many = format!("Ho ten\n{}", "a\n".repeat(MAX_ROWS + 1));
        assert_eq!(read(many.as_bytes()).unwrap_err().key, "register-rows");
        let odd = "Tên,Ghi chú\nMüller ßæøå¿¡,x\n";
        let refused = read(odd.as_bytes()).unwrap_err();
        assert_eq!(refused.key, "text-unreadable");
        assert_eq!(refused, msg::text_unreadable(2, "A"), "the first cell no encoding explains");
    }
}
