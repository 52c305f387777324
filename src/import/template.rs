//! The register template: a workbook people fill by hand. Its first sheet has the
//! columns with a drop-down list for each catalog (a hidden sheet holds the lists), the
//! second explains every column with an example row.

use chrono::NaiveDate;
use rust_xlsxwriter::{DataValidation, DataValidationErrorStyle, Format, FormatBorder, Formula, Workbook, XlsxError};

use super::columns::{Column, DecisionPart, Field, columns};
use crate::db::DbConn;
use crate::domain::case_terms::SubjectKind;
use crate::domain::handling::{Category, System};
use crate::domain::workflow::Status;
use crate::error::Error;
use crate::i18n::{Lang, catalogs};
use crate::model::campaign::{Campaign, CampaignFilter};
use crate::model::directive::Indicator;
use crate::model::handling::Handling;
use crate::model::unit::Unit;

/// The most campaigns the template lists (the newest).
const CAMPAIGNS_LISTED: i64 = 500;
/// Rows of the register sheet the drop-down lists cover.
const ROWS_COVERED: u32 = 5_000;

/// The choices the template offers, in the reader's language.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    pub campaigns: Vec<String>,
    pub subject_kinds: Vec<String>,
    pub categories: Vec<String>,
    /// Units alive on the day the template is made.
    pub units: Vec<String>,
    /// "code. title", which the import reads as the code.
    pub indicators: Vec<String>,
    pub severities: Vec<String>,
    pub statuses: Vec<String>,
    pub systems: Vec<String>,
    /// Measures in force on the day, each name once.
    pub measures: Vec<String>,
}

impl Lists {
    /// The catalogs as they stand on `today`.
    pub fn load(conn: &mut DbConn, lang: Lang, today: NaiveDate) -> Result<Lists, Error> {
        let word = |key: String| catalogs().text(lang, &key, &[]);
        let handling = Handling::load(conn)?;
        let mut units: Vec<String> =
            Unit::all(conn)?.into_iter().filter(|u| u.alive_on(today)).map(|u| u.name).collect();
        units.sort();
        units.dedup();
        let mut measures: Vec<String> = Vec::new();
        for m in handling.measures.iter().filter(|m| !m.retired && m.entry.in_force(today)) {
            let name = handling.measure_name(&m.entry.code, lang);
            if !measures.contains(&name) {
                measures.push(name);
            }
        }
        Ok(Lists {
            campaigns: Campaign::list(conn, &CampaignFilter::default(), None, CAMPAIGNS_LISTED)?
                .into_iter()
                .map(|c| c.title)
                .collect(),
            subject_kinds: SubjectKind::ALL.iter().map(|k| word(format!("subject-{}", k.as_str()))).collect(),
            categories: Category::ALL.iter().map(|c| word(format!("category-{}", c.as_str()))).collect(),
            units,
            indicators: Indicator::list(conn, None)?
                .into_iter()
                .filter(|i| !i.retired)
                .map(|i| format!("{}. {}", i.code, i.title))
                .collect(),
            severities: handling
                .levels
                .iter()
                .filter(|l| !l.retired)
                .map(|l| handling.level_name(&l.entry.code, lang))
                .collect(),
            statuses: Status::ALL.iter().map(|s| word(format!("status-{}", s.as_str()))).collect(),
            systems: System::ALL.iter().map(|s| word(format!("system-{}", s.as_str()))).collect(),
            measures,
        })
    }

    /// The list a column chooses from, if it has one.
    fn of(&self, field: Field) -> Option<&[String]> {
        Some(match field {
            Field::Campaign => &self.campaigns,
            Field::SubjectKind => &self.subject_kinds,
            Field::Categories => &self.categories,
            Field::Unit | Field::ResponsibleUnit => &self.units,
            Field::Indicators => &self.indicators,
            Field::Severity => &self.severities,
            Field::Status => &self.statuses,
            Field::Decision(_, DecisionPart::System) => &self.systems,
            Field::Decision(_, DecisionPart::Measure) => &self.measures,
            _ => return None,
        })
    }
}

/// A column's header in `lang`.
fn header(c: &Column, lang: Lang) -> &str {
    if lang == Lang::En { &c.header_en } else { &c.header }
}

/// The template workbook.
pub fn workbook(lists: &Lists, lang: Lang) -> Result<Vec<u8>, Error> {
    build(lists, lang).map_err(|e| Error::internal(format!("xlsx: {e}")))
}

fn build(lists: &Lists, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let en = lang == Lang::En;
    let all = columns();
    let mut book = Workbook::new();
    let head = Format::new().set_bold().set_text_wrap().set_background_color("#DDEBF7").set_border(FormatBorder::Thin);
    let needed = head.clone().set_background_color("#FCE4D6");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let text = Format::new().set_num_format("@");
    let list_sheet = if en { "Lists" } else { "Danh mục" };

    let register = book.add_worksheet();
    register.set_name(if en { "Register" } else { "Sổ theo dõi" })?;
    let mut list_col: u16 = 0;
    for (i, c) in all.iter().enumerate() {
        let col = i as u16;
        register.write_string_with_format(0, col, header(c, lang), if c.required { &needed } else { &head })?;
        let dated = matches!(c.field, Field::DetectedOn | Field::DueOn | Field::Decision(_, DecisionPart::DecidedOn));
        let width = match c.field {
            Field::Description | Field::Title | Field::Campaign => 40.0,
            Field::Indicators | Field::Unit | Field::ResponsibleUnit | Field::PersonName => 24.0,
            _ => 16.0,
        };
        register.set_column_width(col, width)?;
        register.set_column_format(col, if dated { &date } else { &text })?;
        if let Some(list) = lists.of(c.field).filter(|l| !l.is_empty()) {
            let letter = super::sheet::column_letter(list_col as usize);
            let source = Formula::new(format!("='{list_sheet}'!${letter}$2:${letter}${}", list.len() + 1));
            // Several codes or categories in one cell, a campaign or unit not yet listed:
            // the list helps and warns, it does not forbid.
            let several = matches!(c.field, Field::Indicators | Field::Categories);
            let rule = DataValidation::new().allow_list_formula(source).set_error_style(if several {
                DataValidationErrorStyle::Information
            } else {
                DataValidationErrorStyle::Warning
            });
            register.add_data_validation(1, col, ROWS_COVERED, col, &rule)?;
            list_col += 1;
        }
    }
    register.set_freeze_panes(1, 0)?;
    register.set_row_height(0, 45)?;

    let guide = book.add_worksheet();
    guide.set_name(if en { "Guide" } else { "Hướng dẫn" })?;
    let labels = if en {
        ["Column", "Header", "Required", "What it holds", "Example"]
    } else {
        ["Cột", "Tiêu đề cột", "Bắt buộc", "Nội dung", "Ví dụ"]
    };
    for (i, l) in labels.iter().enumerate() {
        guide.write_string_with_format(0, i as u16, *l, &head)?;
    }
    let wrap = Format::new().set_text_wrap();
    for (i, c) in all.iter().enumerate() {
        let r = i as u32 + 1;
        guide.write_string(r, 0, super::sheet::column_letter(i))?;
        guide.write_string(r, 1, header(c, lang))?;
        guide.write_string(r, 2, if c.required { if en { "yes" } else { "có" } } else { "" })?;
        guide.write_string_with_format(r, 3, c.explain, &wrap)?;
        guide.write_string(r, 4, c.example)?;
    }
    guide.set_column_width(0, 6.0)?.set_column_width(1, 28.0)?.set_column_width(2, 9.0)?;
    guide.set_column_width(3, 70.0)?.set_column_width(4, 40.0)?;

    let hidden = book.add_worksheet();
    hidden.set_name(list_sheet)?;
    let mut col: u16 = 0;
    for c in &all {
        if let Some(list) = lists.of(c.field).filter(|l| !l.is_empty()) {
            hidden.write_string_with_format(0, col, header(c, lang), &head)?;
            for (r, item) in list.iter().enumerate() {
                hidden.write_string(r as u32 + 1, col, item)?;
            }
            hidden.set_column_width(col, 30.0)?;
            col += 1;
        }
    }
    hidden.set_hidden(true);
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::sheet;

    fn lists() -> Lists {
        let one = |s: &str| vec![s.to_string()];
        Lists {
            campaigns: one("Kiểm tra năm 2024"),
            subject_kinds: vec!["Tổ chức".into(), "Cá nhân".into()],
            categories: one("Đảng viên chính thức"),
            units: vec!["Phường Hoàn Kiếm".into(), "Xã Sóc Sơn".into()],
            indicators: one("2.1. Chậm giải quyết công việc"),
            severities: one("Ít nghiêm trọng"),
            statuses: one("Đã xử lý"),
            systems: one("Kỷ luật đảng"),
            measures: one("Khiển trách"),
        }
    }

    #[test]
    fn the_template_reads_back_as_a_register_with_every_column() {
        let bytes = workbook(&lists(), Lang::Vi).unwrap();
        // Only the header row is filled: reading it as a register finds no rows, and the
        // headers are the columns', in order, and match as a layout.
        assert_eq!(sheet::read(&bytes).unwrap_err().key, "file-empty");
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["Sổ theo dõi", "Hướng dẫn", "Danh mục"]);
        let first = book.worksheet_range("Sổ theo dõi").unwrap();
        let headers: Vec<String> = first.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
        let expected: Vec<String> = columns().into_iter().map(|c| c.header).collect();
        assert_eq!(headers, expected);
        let row = sheet::Row { line: 1, cells: headers };
        assert!(super::super::columns::Layout::of(&row).is_ok());
        let lists_sheet = book.worksheet_range("Danh mục").unwrap();
        let units: Vec<String> = lists_sheet.rows().skip(1).filter_map(|r| r.get(3).map(|c| c.to_string())).collect();
        assert!(units.contains(&"Xã Sóc Sơn".to_string()), "{units:?}");
        let guide = book.worksheet_range("Hướng dẫn").unwrap();
        assert_eq!(guide.height(), columns().len() + 1, "one guide row per column");
    }

    #[test]
    fn the_english_template_has_english_headers() {
        let bytes = workbook(&lists(), Lang::En).unwrap();
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["Register", "Guide", "Lists"]);
        let first = book.worksheet_range("Register").unwrap();
        assert_eq!(first.get((0, 1)).map(|c| c.to_string()).as_deref(), Some("Detected on"));
    }
}
