//! Registers typed before Unicode: text in the TCVN3 (ABC, ".VnTime") or VNI
//! ("VNI-Times") font encodings, which a spreadsheet shows as Vietnamese only in that
//! font and stores as Latin-1 letters ("Hµ Néi", "Haø Noäi" for "Hà Nội"). Such text is
//! told apart from Unicode and converted, or the file is refused naming what was found;
//! mojibake is never stored.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// A legacy encoding a register may be typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    /// TCVN 5712:1993 (VN3, "ABC"), the .VnTime fonts: one byte per letter.
    Tcvn3,
    /// VNI for Windows, the VNI-Times fonts: a base letter and a mark byte after it.
    Vni,
}

impl Legacy {
    /// The name people know it by, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Legacy::Tcvn3 => "TCVN3 (ABC, .VnTime)",
            Legacy::Vni => "VNI (VNI-Times)",
        }
    }
}

/// Bytes 0xA0–0xFF of TCVN 5712:1993 as Unicode (as glibc's TCVN5712-1 reads them).
const TCVN3_HIGH: [char; 96] = [
    '\u{a0}', 'Ă', 'Â', 'Ê', 'Ô', 'Ơ', 'Ư', 'Đ', 'ă', 'â', 'ê', 'ô', 'ơ', 'ư', 'đ', 'Ằ', //
    '\u{300}', '\u{309}', '\u{303}', '\u{301}', '\u{323}', 'à', 'ả', 'ã', 'á', 'ạ', 'Ẳ', 'ằ', 'ẳ', 'ẵ', 'ắ',
    'Ẵ', //
    'Ắ', 'Ầ', 'Ẩ', 'Ẫ', 'Ấ', 'Ề', 'ặ', 'ầ', 'ẩ', 'ẫ', 'ấ', 'ậ', 'è', 'Ể', 'ẻ', 'ẽ', //
    'é', 'ẹ', 'ề', 'ể', 'ễ', 'ế', 'ệ', 'ì', 'ỉ', 'Ễ', 'Ế', 'Ồ', 'ĩ', 'í', 'ị', 'ò', //
    'Ổ', 'ỏ', 'õ', 'ó', 'ọ', 'ồ', 'ổ', 'ỗ', 'ố', 'ộ', 'ờ', 'ở', 'ỡ', 'ớ', 'ợ', 'ù', //
    'Ỗ', 'ủ', 'ũ', 'ú', 'ụ', 'ừ', 'ử', 'ữ', 'ứ', 'ự', 'ỳ', 'ỷ', 'ỹ', 'ý', 'ỵ', 'Ố', //
];

/// The tone marks, in VNI's order: acute, grave, hook above, tilde, dot below.
const TONES: [char; 5] = ['\u{301}', '\u{300}', '\u{309}', '\u{303}', '\u{323}'];
/// VNI's mark bytes: [shape][tone+1], tone 0 being none (lower case; upper case is the
/// same letter upper-cased).
const VNI_MARKS: [[&str; 6]; 3] = [
    ["", "ù", "ø", "û", "õ", "ï"],  // no shape, or the horn (carried by ô/ö)
    ["â", "á", "à", "å", "ã", "ä"], // circumflex
    ["ê", "é", "è", "ú", "ü", "ë"], // breve
];

/// Every Vietnamese letter with its VNI spelling (one or two characters).
fn vni_table() -> &'static HashMap<String, char> {
    static TABLE: OnceLock<HashMap<String, char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = HashMap::new();
        // (base letter, shape: 0 none/horn, 1 circumflex, 2 breve, the VNI base)
        let bases: [(&str, usize, &str); 12] = [
            ("a", 0, "a"),
            ("ă", 2, "a"),
            ("â", 1, "a"),
            ("e", 0, "e"),
            ("ê", 1, "e"),
            ("o", 0, "o"),
            ("ô", 1, "o"),
            ("ơ", 0, "ô"),
            ("u", 0, "u"),
            ("ư", 0, "ö"),
            ("y", 0, "y"),
            ("i", 0, "i"),
        ];
        for (letter, shape, base) in bases {
            for (tone, mark) in VNI_MARKS[shape].iter().enumerate() {
                let plain: String = match tone {
                    0 => letter.to_string(),
                    n => format!("{letter}{}", TONES[n - 1]).nfc().collect(),
                };
                let spelled = match (letter, tone) {
                    ("i", 0) => "i".to_string(),
                    ("i", n) => ["í", "ì", "æ", "ó", "ò"][n - 1].to_string(),
                    ("y", 5) => "î".to_string(),
                    _ => format!("{base}{mark}"),
                };
                if spelled == plain {
                    continue;
                }
                let ch = plain.chars().next().expect("one letter");
                t.insert(spelled.clone(), ch);
                t.insert(spelled.to_uppercase(), ch.to_uppercase().next().expect("upper case"));
            }
        }
        t.insert("ñ".into(), 'đ');
        t.insert("Ñ".into(), 'Đ');
        t
    })
}

/// Letters of Latin-1 that Vietnamese uses (the rest of Latin-1 is a sign of legacy text).
const VIETNAMESE_LATIN1: &str = "ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý";
/// Latin-1 signs that turn up in Unicode text too, and alone prove nothing.
const COMMON_SIGNS: &str = "\u{a0}°§«»±×÷©®£¥";

/// What a piece of text looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looks {
    /// Has a Vietnamese letter only Unicode has (ă, đ, ơ, ư, ạ, …): Unicode.
    Unicode,
    /// Has Latin-1 letters or signs Vietnamese does not use: typed in a legacy font.
    Legacy,
    /// Neither (plain ASCII, or only letters both share).
    Either,
}

/// Tells what `text` looks like.
pub fn looks(text: &str) -> Looks {
    let mut legacy = false;
    for c in text.chars() {
        if (c as u32) > 0xFF && c.is_alphabetic() {
            return Looks::Unicode;
        }
        if (0xA1..=0xFF).contains(&(c as u32)) && !VIETNAMESE_LATIN1.contains(c) && !COMMON_SIGNS.contains(c) {
            legacy = true;
        }
    }
    if legacy { Looks::Legacy } else { Looks::Either }
}

/// `text` read as TCVN3, in NFC.
pub fn from_tcvn3(text: &str) -> String {
    text.chars()
        .map(|c| match c as u32 {
            n @ 0xA0..=0xFF => TCVN3_HIGH[(n - 0xA0) as usize],
            _ => c,
        })
        .nfc()
        .collect()
}

/// `text` read as VNI, in NFC; `None` when a character is left that VNI cannot explain
/// (a mark byte with no letter before it, a sign VNI does not use).
pub fn from_vni(text: &str) -> Option<String> {
    let table = vni_table();
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if i + 1 < chars.len() {
            let pair: String = chars[i..i + 2].iter().collect();
            if let Some(c) = table.get(&pair) {
                out.push(*c);
                i += 2;
                continue;
            }
        }
        let one = chars[i].to_string();
        match table.get(&one) {
            Some(c) => out.push(*c),
            None if looks(&one) == Looks::Legacy => return None,
            None => out.push(chars[i]),
        }
        i += 1;
    }
    Some(out.nfc().collect())
}

/// Whether every word of converted text has at most one tone mark, as Vietnamese
/// syllables do (text read in the wrong encoding rarely does).
fn syllables_hold(text: &str) -> bool {
    text.split(|c: char| !c.is_alphabetic() && !TONES.contains(&c))
        .all(|word| word.nfd().filter(|c| TONES.contains(c)).count() <= 1)
}

/// Why a file's text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The index of the first cell that no encoding explains.
    pub cell: usize,
}

/// Looks at every text cell of a file and decides its encoding: `Ok(None)` for Unicode
/// (nothing to convert), `Ok(Some(e))` when the cells that look legacy all read
/// cleanly in `e`, otherwise the first cell that does not.
pub fn detect<'a>(cells: impl IntoIterator<Item = &'a str>) -> Result<Option<Legacy>, Unreadable> {
    let legacy: Vec<(usize, &str)> = cells.into_iter().enumerate().filter(|(_, c)| looks(c) == Looks::Legacy).collect();
    if legacy.is_empty() {
        return Ok(None);
    }
    if legacy.iter().all(|(_, c)| from_vni(c).is_some_and(|t| syllables_hold(&t))) {
        return Ok(Some(Legacy::Vni));
    }
    match legacy.iter().find(|(_, c)| !syllables_hold(&from_tcvn3(c))) {
        None => Ok(Some(Legacy::Tcvn3)),
        Some((cell, _)) => Err(Unreadable { cell: *cell }),
    }
}

/// Converts one cell of a file typed in `encoding`: a cell that already looks like
/// Unicode is kept as it is (a register edited over the years may hold both), any
/// other is read in `encoding`; the result is NFC.
pub fn convert(text: &str, encoding: Option<Legacy>) -> String {
    match (encoding, looks(text)) {
        (None, _) | (_, Looks::Unicode) => text.nfc().collect(),
        (Some(Legacy::Tcvn3), _) => from_tcvn3(text),
        (Some(Legacy::Vni), _) => from_vni(text).unwrap_or_else(|| text.nfc().collect()),
    }
}

/// Bytes that are not UTF-8, read as the Windows code page Excel saves a legacy-font
/// CSV in: bytes 0xA0–0xFF are the Latin-1 letters the legacy fonts draw on.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcvn3_text_is_read_as_vietnamese() {
        assert_eq!(from_tcvn3("Hµ Néi"), "Hà Nội");
        assert_eq!(from_tcvn3("B¶o Th¾ng"), "Bảo Thắng");
        assert_eq!(from_tcvn3("M\u{ad}êng Kh\u{ad}\u{ac}ng"), "Mường Khương");
        assert_eq!(from_tcvn3("Ph\u{ad}êng Hoµn KiÕm"), "Phường Hoàn Kiếm");
        assert_eq!(detect(["Hµ Néi", "Nam", "2024"]), Ok(Some(Legacy::Tcvn3)));
    }

    #[test]
    fn vni_text_is_read_as_vietnamese() {
        assert_eq!(from_vni("Haø Noäi").as_deref(), Some("Hà Nội"));
        assert_eq!(from_vni("Xin chaøo caùc baïn").as_deref(), Some("Xin chào các bạn"));
        assert_eq!(from_vni("Nguyeãn Vaên Ñöùc").as_deref(), Some("Nguyễn Văn Đức"));
        assert_eq!(from_vni("TRÖÔØNG").as_deref(), Some("TRƯỜNG"));
        assert_eq!(from_vni("Hµ"), None, "µ is not VNI");
        assert_eq!(detect(["Haø Noäi", "Ñoaøn kieåm tra"]), Ok(Some(Legacy::Vni)));
    }

    #[test]
    fn unicode_is_left_alone_and_normalised() {
        assert_eq!(looks("Nguyễn Văn A"), Looks::Unicode);
        assert_eq!(looks("Hà Nam"), Looks::Either);
        assert_eq!(detect(["Nguyễn Văn A", "Hà Nam", "25°C"]), Ok(None));
        // "à" as a base letter and a combining grave is stored composed.
        assert_eq!(convert("Ha\u{300} No\u{302}\u{323}i", None), "Hà Nội");
        // A Unicode cell in a TCVN3 file is not converted again.
        assert_eq!(convert("Nguyễn Văn A", Some(Legacy::Tcvn3)), "Nguyễn Văn A");
    }

    #[test]
    fn text_no_encoding_explains_is_refused() {
        // Latin-1 letters of another language: not Vietnamese in any of the three.
        assert_eq!(detect(["Nam", "Müller ßæøå¿¡"]), Err(Unreadable { cell: 1 }));
    }
}
