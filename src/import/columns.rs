//! The register's columns: what each holds, its header in Vietnamese and English, what
//! the template's guide says of it, and how a file's header row is matched to them.

use std::collections::HashMap;

use super::sheet::{Row, column_letter};
use crate::domain::fold::fold;
use crate::domain::validation::{Message, msg};

/// How many decisions a row may carry (a party decision and a state one, typically).
pub const DECISIONS: usize = 2;

/// The part of a decision a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionPart {
    System,
    Authority,
    Measure,
    Reference,
    DecidedOn,
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Reference,
    DetectedOn,
    Campaign,
    SubjectKind,
    PersonName,
    Position,
    Categories,
    Unit,
    Indicators,
    Title,
    Description,
    Severity,
    Status,
    ResponsibleUnit,
    DueOn,
    /// Part of the `n`th decision (0-based).
    Decision(usize, DecisionPart),
}

/// A column of the template.
#[derive(Debug, Clone)]
pub struct Column {
    pub field: Field,
    pub header: String,
    pub header_en: String,
    /// Whether every row must fill it.
    pub required: bool,
    /// What the guide sheet says of it, and an example value.
    pub explain: &'static str,
    pub example: &'static str,
}

/// The columns, in the template's order.
pub fn columns() -> Vec<Column> {
    use Field::*;
    let plain: [(Field, &str, &str, bool, &str, &str); 15] = [
        (
            Reference,
            "Số hồ sơ gốc",
            "Original reference",
            false,
            "Số hoặc ký hiệu hồ sơ trong sổ theo dõi của đơn vị; dùng để nhận ra dòng đã nhập khi nhập lại tệp.",
            "UBKT-2024/017",
        ),
        (
            DetectedOn,
            "Ngày phát hiện",
            "Detected on",
            true,
            "Ngày phát hiện vi phạm (dd/mm/yyyy), không sau hôm nay.",
            "15/03/2024",
        ),
        (
            Campaign,
            "Đợt kiểm tra",
            "Campaign",
            true,
            "Tên đợt kiểm tra, giám sát như đã tạo trong hệ thống.",
            "Kiểm tra việc thực hiện Chỉ thị 24-CT/TU năm 2024",
        ),
        (SubjectKind, "Đối tượng", "Subject", true, "Tổ chức hoặc Cá nhân.", "Cá nhân"),
        (
            PersonName,
            "Họ tên",
            "Name",
            false,
            "Cá nhân: họ và tên (bắt buộc). Tổ chức: tên bộ phận trong đơn vị, nếu có.",
            "Nguyễn Văn An",
        ),
        (Position, "Chức vụ", "Position", false, "Chức vụ của cá nhân khi vi phạm.", "Phó Trưởng phòng"),
        (
            Categories,
            "Loại đối tượng",
            "Categories",
            false,
            "Đảng viên, công chức, viên chức…; nhiều loại cách nhau bằng dấu chấm phẩy.",
            "Đảng viên chính thức; Công chức",
        ),
        (
            Unit,
            "Đơn vị",
            "Unit",
            true,
            "Đơn vị nơi phát hiện vi phạm, theo mã hoặc tên, như đơn vị đó có vào ngày phát hiện (kể cả đơn vị đã sáp nhập).",
            "Phường Hoàn Kiếm",
        ),
        (
            Indicators,
            "Biểu hiện",
            "Indicators",
            true,
            "Mã biểu hiện vi phạm của chỉ thị; nhiều mã cách nhau bằng dấu chấm phẩy.",
            "2.1; 3.4",
        ),
        (
            Title,
            "Tiêu đề",
            "Title",
            false,
            "Tóm tắt vụ việc; để trống thì lấy câu đầu của phần mô tả.",
            "Chậm giải quyết hồ sơ đất đai",
        ),
        (
            Description,
            "Mô tả",
            "Description",
            true,
            "Nội dung vi phạm như ghi trong hồ sơ.",
            "Chậm giải quyết 12 hồ sơ cấp giấy chứng nhận quá hạn trên 30 ngày.",
        ),
        (Severity, "Mức độ", "Severity", true, "Mức độ vi phạm theo danh mục.", "Ít nghiêm trọng"),
        (
            Status,
            "Trạng thái",
            "Status",
            true,
            "Trạng thái hiện nay của vụ việc. Đã xử lý: cần ít nhất một quyết định.",
            "Đã xử lý",
        ),
        (
            ResponsibleUnit,
            "Đơn vị chịu trách nhiệm xử lý",
            "Responsible unit",
            false,
            "Đơn vị đang hoặc đã xử lý vụ việc; bắt buộc khi vụ việc không còn chờ tiếp nhận.",
            "Phường Hoàn Kiếm",
        ),
        (DueOn, "Hạn xử lý", "Due on", false, "Hạn xử lý (dd/mm/yyyy), nếu có.", "30/04/2024"),
    ];
    let mut out: Vec<Column> = plain
        .into_iter()
        .map(|(field, header, header_en, required, explain, example)| Column {
            field,
            header: header.into(),
            header_en: header_en.into(),
            required,
            explain,
            example,
        })
        .collect();
    let parts: [(DecisionPart, &str, &str, &str, [&str; 2]); 5] = [
        (
            DecisionPart::System,
            "Hệ thống",
            "System",
            "Kỷ luật đảng, kỷ luật hành chính hoặc hình thức xử lý khác.",
            ["Kỷ luật đảng", "Kỷ luật hành chính"],
        ),
        (
            DecisionPart::Authority,
            "Cơ quan quyết định",
            "Authority",
            "Cơ quan, tổ chức ra quyết định.",
            ["Ủy ban Kiểm tra Đảng ủy phường", "Chủ tịch UBND phường"],
        ),
        (
            DecisionPart::Measure,
            "Hình thức",
            "Measure",
            "Hình thức xử lý theo danh mục.",
            ["Khiển trách", "Khiển trách"],
        ),
        (
            DecisionPart::Reference,
            "Số quyết định",
            "Decision number",
            "Số, ký hiệu của quyết định.",
            ["25-QĐ/UBKT", "112/QĐ-UBND"],
        ),
        (
            DecisionPart::DecidedOn,
            "Ngày quyết định",
            "Decided on",
            "Ngày ký quyết định (dd/mm/yyyy).",
            ["20/05/2024", "03/06/2024"],
        ),
    ];
    for n in 0..DECISIONS {
        for (part, header, header_en, explain, example) in parts {
            out.push(Column {
                field: Field::Decision(n, part),
                header: format!("{header} (QĐ {})", n + 1),
                header_en: format!("{header_en} (decision {})", n + 1),
                required: false,
                explain,
                example: example[n.min(1)],
            });
        }
    }
    out
}

/// A problem found in a file: where (row and column as the spreadsheet names them, and
/// the column's header) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: Option<String>,
    pub header: Option<String>,
    pub message: Message,
}

/// Which column of the file holds which field.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub at: HashMap<Field, usize>,
    /// The header of each column as the file wrote it.
    pub headers: Vec<String>,
}

impl Layout {
    /// The header row matched to the columns (in either language, any case, with or
    /// without diacritics). Unknown and repeated headers and missing required columns
    /// are problems of row `headers.line`.
    pub fn of(headers: &Row) -> Result<Layout, Vec<Problem>> {
        let known = columns();
        let mut by_name: HashMap<String, &Column> = HashMap::new();
        for c in &known {
            by_name.insert(fold(&c.header), c);
            by_name.insert(fold(&c.header_en), c);
        }
        let mut layout =
            Layout { at: HashMap::new(), headers: headers.cells.iter().map(|h| h.trim().into()).collect() };
        let mut problems = Vec::new();
        let problem = |i: usize, message: Message| Problem {
            line: headers.line,
            column: Some(column_letter(i)),
            header: Some(headers.cell(i).to_string()),
            message,
        };
        for (i, h) in headers.cells.iter().enumerate() {
            if h.trim().is_empty() {
                continue;
            }
            match by_name.get(&fold(h)) {
                None => problems.push(problem(i, msg::unknown_column())),
                Some(c) => match layout.at.get(&c.field) {
                    Some(first) => problems.push(problem(i, msg::column_twice(&column_letter(*first)))),
                    None => {
                        layout.at.insert(c.field, i);
                    }
                },
            }
        }
        for c in known.iter().filter(|c| c.required && !layout.at.contains_key(&c.field)) {
            problems.push(Problem {
                line: headers.line,
                column: None,
                header: Some(c.header.clone()),
                message: msg::column_missing(&c.header),
            });
        }
        if problems.is_empty() { Ok(layout) } else { Err(problems) }
    }

    /// The trimmed text of `field` in `row` (empty when the file has no such column).
    pub fn get<'r>(&self, row: &'r Row, field: Field) -> &'r str {
        self.at.get(&field).map(|i| row.cell(*i)).unwrap_or("")
    }

    /// A problem with `field` in `row`.
    pub fn problem(&self, row: &Row, field: Field, message: Message) -> Problem {
        let i = self.at.get(&field).copied();
        Problem {
            line: row.line,
            column: i.map(column_letter),
            header: i.and_then(|i| self.headers.get(i).cloned()),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Row {
        Row { line: 1, cells: cells.iter().map(|c| c.to_string()).collect() }
    }

    fn required() -> Vec<String> {
        columns().into_iter().filter(|c| c.required).map(|c| c.header).collect()
    }

    #[test]
    fn headers_match_in_either_language_and_without_diacritics() {
        let mut headers = required();
        headers.push("so quyet dinh (qd 2)".into());
        headers.push("Position".into());
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let layout = Layout::of(&row(&headers)).unwrap();
        assert_eq!(layout.at[&Field::DetectedOn], 0);
        assert_eq!(layout.at[&Field::Decision(1, DecisionPart::Reference)], headers.len() - 2);
        assert_eq!(layout.at[&Field::Position], headers.len() - 1);
        let data = Row { line: 5, cells: vec!["15/03/2024".into()] };
        assert_eq!(layout.get(&data, Field::DetectedOn), "15/03/2024");
        assert_eq!(layout.get(&data, Field::Title), "");
        let p = layout.problem(&data, Field::DetectedOn, msg::required());
        assert_eq!((p.line, p.column.as_deref(), p.header.as_deref()), (5, Some("A"), Some("Ngày phát hiện")));
    }

    #[test]
    fn unknown_repeated_and_missing_headers_are_each_a_problem() {
        let mut headers = required();
        headers.retain(|h| h != "Mô tả");
        headers.push("Ghi chú riêng".into());
        headers.push("NGÀY PHÁT HIỆN".into());
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let problems = Layout::of(&row(&headers)).unwrap_err();
        let keys: Vec<(&str, Option<&str>)> = problems.iter().map(|p| (p.message.key, p.column.as_deref())).collect();
        let unknown = column_letter(headers.len() - 2);
        let twice = column_letter(headers.len() - 1);
        assert_eq!(
            keys,
            [
                ("unknown-column", Some(unknown.as_str())),
                ("column-twice", Some(twice.as_str())),
                ("column-missing", None)
            ]
        );
    }

    #[test]
    fn every_column_has_a_header_in_both_languages_and_an_example() {
        let all = columns();
        assert_eq!(all.len(), 15 + 5 * DECISIONS);
        let mut folded: Vec<String> = all.iter().flat_map(|c| [fold(&c.header), fold(&c.header_en)]).collect();
        folded.sort();
        folded.dedup();
        assert_eq!(folded.len(), all.len() * 2, "no two headers fold to the same words");
        assert!(all.iter().all(|c| !c.example.is_empty() && !c.explain.is_empty()));
    }
}
