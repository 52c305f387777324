//! A reorganisation written as the mapping table agencies publish: one row per old unit
//! and the unit it goes into (old code, new code, new name, kind, parent code; name, kind and parent once per new unit), as CSV
//! (UTF-8, with or without BOM) or XLSX, the first row being headers. The rows become
//! the steps of one reorganisation: new units established, old units merged into them
//! (or split between several), names changed.

use std::collections::{BTreeMap, HashMap};

use crate::db::DbConn;
use crate::domain::fold::fold;
use crate::domain::role::UnitKind;
use crate::domain::validation::{Message, msg};
use crate::error::Error;
use crate::model::unit::Unit;

use super::{NewUnitSpec, Step, UnitRef};

/// The most rows a mapping may have.
pub const MAX_ROWS: usize = 10_000;

/// The columns, as the template's headers name them.
pub const HEADERS: [&str; 5] = ["Mã đơn vị cũ", "Mã đơn vị mới", "Tên đơn vị mới", "Loại đơn vị", "Mã đơn vị cấp trên"];

/// One row of a mapping; `line` is the spreadsheet's row number (headers are row 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRow {
    pub line: usize,
    pub old: String,
    pub new: String,
    pub name: String,
    pub kind: String,
    pub parent: String,
}

/// Reads the rows of a CSV or XLSX mapping (XLSX is told by its ZIP signature).
pub fn read(bytes: &[u8]) -> Result<Vec<MappingRow>, Message> {
    let cells: Vec<Vec<String>> = if bytes.starts_with(b"PK\x03\x04") { xlsx_rows(bytes)? } else { csv_rows(bytes)? };
    let mut rows = Vec::new();
    for (i, cells) in cells.into_iter().enumerate().skip(1) {
        let cell = |n: usize| cells.get(n).map(|c| c.trim().to_string()).unwrap_or_default();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows.push(MappingRow {
            line: i + 1,
            old: cell(0),
            new: cell(1),
            name: cell(2),
            kind: cell(3),
            parent: cell(4),
        });
        if rows.len() > MAX_ROWS {
            return Err(msg::too_many_rows(MAX_ROWS as i64));
        }
    }
    if rows.is_empty() {
        return Err(msg::file_empty());
    }
    Ok(rows)
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, Message> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| msg::form_utf8())?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| msg::not_valid(&e.to_string()))?;
        out.push(record.iter().map(str::to_string).collect());
        if out.len() > MAX_ROWS + 1 {
            return Err(msg::too_many_rows(MAX_ROWS as i64));
        }
    }
    Ok(out)
}

fn xlsx_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, Message> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).map_err(|e| msg::not_valid(&e.to_string()))?;
    let range = book.worksheet_range_at(0).ok_or_else(msg::file_empty)?.map_err(|e| msg::not_valid(&e.to_string()))?;
    if range.height() > MAX_ROWS + 1 {
        return Err(msg::too_many_rows(MAX_ROWS as i64));
    }
    Ok(range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect())
}

/// A kind as a mapping may write it: the stored word, or the Vietnamese one.
pub fn kind_of(raw: &str) -> Option<UnitKind> {
    if let Some(k) = UnitKind::parse(raw.trim()) {
        return Some(k);
    }
    match fold(raw).as_str() {
        "phuong" => Some(UnitKind::Ward),
        "xa" | "thi tran" => Some(UnitKind::Commune),
        "quan" | "huyen" | "thi xa" => Some(UnitKind::District),
        "thanh pho" => Some(UnitKind::City),
        "so" | "ban" | "nganh" | "so, ban, nganh" => Some(UnitKind::Department),
        "dang uy" | "co quan dang" | "to chuc dang" => Some(UnitKind::PartyBody),
        "dac khu" | "khac" => Some(UnitKind::Other),
        _ => None,
    }
}

/// The steps a mapping stands for, with the spreadsheet rows behind each step; the
/// problems of rows that cannot become a step are keyed `Dòng N, cột X`-style by the
/// caller from the returned (line, column, message) triples.
pub struct Translated {
    pub steps: Vec<Step>,
    pub lines: Vec<Vec<usize>>,
    pub problems: Vec<(usize, char, Message)>,
}

/// Turns the rows into steps: every new code not yet a unit is established (its name,
/// kind and parent from its first row; the parent defaults to the top of the tree),
/// old units going into one new code are merged into it, an old unit going into several
/// is split between them, and a new name for an existing unit is a rename.
pub fn translate(conn: &mut DbConn, rows: &[MappingRow]) -> Result<Translated, Error> {
    let units = Unit::all(conn)?;
    let by_code: HashMap<&str, &Unit> = units.iter().map(|u| (u.code.as_str(), u)).collect();
    let roots: Vec<&Unit> = units.iter().filter(|u| u.parent_id.is_none() && u.ended_on.is_none()).collect();
    let mut out = Translated { steps: Vec::new(), lines: Vec::new(), problems: Vec::new() };
    // New code → (its rows); old code → the new codes it goes into; both in file order.
    let mut into: Vec<(String, Vec<&MappingRow>)> = Vec::new();
    let mut goes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows {
        let (old, new) = (r.old.to_uppercase(), r.new.to_uppercase());
        if new.is_empty() {
            out.problems.push((r.line, 'B', msg::required()));
            continue;
        }
        match into.iter_mut().find(|(code, _)| *code == new) {
            Some((_, rs)) => rs.push(r),
            None => into.push((new.clone(), vec![r])),
        }
        if !old.is_empty() && old != new {
            goes.entry(old).or_default().push(new);
        }
    }
    let split: HashMap<&String, &Vec<String>> = goes.iter().filter(|(_, n)| n.len() > 1).collect();
    // First every new unit and new name, so that later steps (and parents) can name them.
    for (new, rs) in &into {
        // The row that names the unit (the others may leave name, kind and parent blank).
        let first = rs.iter().find(|r| !r.name.is_empty()).copied().unwrap_or(rs[0]);
        let lines: Vec<usize> = rs.iter().map(|r| r.line).collect();
        match by_code.get(new.as_str()) {
            None => {
                let kind = match kind_of(&first.kind) {
                    Some(k) => k.as_str().to_string(),
                    None => {
                        out.problems.push((first.line, 'D', msg::one_of(&UnitKind::ALL.map(UnitKind::as_str))));
                        continue;
                    }
                };
                if first.name.is_empty() {
                    out.problems.push((first.line, 'C', msg::required()));
                    continue;
                }
                let parent = if first.parent.is_empty() {
                    roots.first().filter(|_| roots.len() == 1).map(|r| r.code.clone())
                } else {
                    Some(first.parent.to_uppercase())
                };
                let unit = NewUnitSpec { code: new.clone(), name: first.name.clone(), kind, parent };
                out.steps.push(Step::Establish { unit });
                out.lines.push(lines);
            }
            Some(existing) if !first.name.is_empty() && first.name != existing.name => {
                out.steps.push(Step::Rename { unit: new.clone(), name: first.name.clone() });
                out.lines.push(lines);
            }
            Some(_) => {}
        }
    }
    for (new, rs) in &into {
        let lines: Vec<usize> = rs.iter().map(|r| r.line).collect();
        let merged: Vec<String> = rs
            .iter()
            .map(|r| r.old.to_uppercase())
            .filter(|o| !o.is_empty() && o != new && !split.contains_key(o))
            .collect();
        if !merged.is_empty() {
            out.steps.push(Step::Merge { from: merged, to: UnitRef::Code(new.clone()) });
            out.lines.push(lines);
        }
    }
    for (old, news) in goes.iter().filter(|(_, n)| n.len() > 1) {
        let lines = rows.iter().filter(|r| r.old.to_uppercase() == *old).map(|r| r.line).collect();
        let to = news.iter().map(|n| UnitRef::Code(n.clone())).collect();
        out.steps.push(Step::Split { from: old.clone(), to, place: BTreeMap::new() });
        out.lines.push(lines);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_with_a_bom_and_an_xlsx_read_the_same_rows() {
        let csv = "\u{feff}Mã đơn vị cũ,Mã đơn vị mới,Tên đơn vị mới,Loại đơn vị,Mã đơn vị cấp trên\n\
                   BD-PHUC-XA,P-HONG-HA,Phường Hồng Hà,Phường,HN\n,,,,\n\
                   HK-CHUONG-DUONG,P-HONG-HA,Phường Hồng Hà,ward,HN\n";
        let from_csv = read(csv.as_bytes()).unwrap();
        assert_eq!(from_csv.len(), 2);
        assert_eq!(from_csv[0].line, 2);
        assert_eq!(from_csv[1].line, 4, "a blank row keeps its number");
        assert_eq!(from_csv[0].name, "Phường Hồng Hà");

        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let rows = [HEADERS.to_vec(), vec!["BD-PHUC-XA", "P-HONG-HA", "Phường Hồng Hà", "Phường", "HN"]];
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, *cell).unwrap();
            }
        }
        let from_xlsx = read(&book.save_to_buffer().unwrap()).unwrap();
        assert_eq!(from_xlsx, from_csv[..1]);
    }

    #[test]
    fn empty_or_unreadable_files_are_refused() {
        assert_eq!(read(b"Ma cu,Ma moi\n").unwrap_err().key, "file-empty");
        assert_eq!(read(b"\xff\xfe\x00").unwrap_err().key, "form-utf8");
        assert_eq!(read(b"PK\x03\x04 not a workbook").unwrap_err().key, "not-valid");
    }

    #[test]
    fn kinds_may_be_written_in_vietnamese() {
        assert_eq!(kind_of("Phường"), Some(UnitKind::Ward));
        assert_eq!(kind_of("xã"), Some(UnitKind::Commune));
        assert_eq!(kind_of("ward"), Some(UnitKind::Ward));
        assert_eq!(kind_of("tỉnh"), None);
    }
}
