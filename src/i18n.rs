//! The languages people read: one set of Fluent catalogs (`locales/*.ftl`, Vietnamese
//! first) for the console, the API's problems and the exports, and numbers, rates and
//! dates written the way each language writes them.

use std::sync::LazyLock;

use chrono::NaiveDate;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::Serialize;

/// A language the service speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == s)
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Vi => include_str!("../locales/vi.ftl"),
            Lang::En => include_str!("../locales/en.ftl"),
        }
    }
}

/// The catalogs, parsed on first use (they are compiled in; a test parses them).
pub fn catalogs() -> &'static Catalogs {
    static CATALOGS: LazyLock<Catalogs> = LazyLock::new(|| Catalogs::load().expect("the compiled-in catalogs parse"));
    &CATALOGS
}

/// The message catalogs of every language, parsed once.
pub struct Catalogs {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
}

impl Catalogs {
    /// Parses the compiled-in catalogs; a syntax error names the language.
    pub fn load() -> Result<Self, String> {
        let mut bundles = Vec::new();
        for lang in Lang::ALL {
            let resource = FluentResource::try_new(lang.source().to_string())
                .map_err(|(_, errs)| format!("locales/{}.ftl: {errs:?}", lang.code()))?;
            let id: unic_langid::LanguageIdentifier = lang.code().parse().map_err(|e| format!("{e}"))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Text goes into HTML; the invisible isolation marks would only get in the way.
            bundle.set_use_isolating(false);
            bundle.add_resource(resource).map_err(|errs| format!("locales/{}.ftl: {errs:?}", lang.code()))?;
            bundles.push((lang, bundle));
        }
        Ok(Catalogs { bundles })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        &self.bundles.iter().find(|(l, _)| *l == lang).expect("every language is loaded").1
    }

    /// The message `key` in `lang`, filled with `args`; the key itself when missing
    /// (a test keeps every key in every catalog).
    pub fn text(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_string();
        };
        let mut fargs = FluentArgs::new();
        for (k, v) in args {
            fargs.set(*k, v.clone());
        }
        let mut errors = Vec::new();
        bundle.format_pattern(pattern, Some(&fargs), &mut errors).into_owned()
    }

    /// Whether `lang` has the message `key`.
    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.bundle(lang).has_message(key)
    }

    /// Every message key of `lang`'s catalog.
    pub fn keys(lang: Lang) -> Vec<String> {
        let resource = FluentResource::try_new(lang.source().to_string()).expect("catalog parses");
        resource
            .entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            })
            .collect()
    }
}

/// A whole number with the language's thousands mark: 1.234 (vi), 1,234 (en).
pub fn number(lang: Lang, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mark = if lang == Lang::Vi { '.' } else { ',' };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(mark);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A share as a percentage with one decimal: 42,2% (vi), 42.2% (en).
pub fn percent(lang: Lang, part: i64, whole: i64) -> String {
    if whole == 0 {
        return "—".into();
    }
    let tenths = (part as f64 * 1000.0 / whole as f64).round() as i64;
    let sep = if lang == Lang::Vi { ',' } else { '.' };
    format!("{}{sep}{}%", number(lang, tenths / 10), tenths % 10)
}

/// A size limit as people read it: "10 MB", "1,5 MB" (vi; "1.5 MB" in en), "256 KB" below
/// one megabyte (1 MB = 1.048.576 bytes, as the configuration counts).
pub fn size(lang: Lang, bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes < MB {
        return format!("{} KB", number(lang, bytes.div_ceil(1024) as i64));
    }
    let tenths = (bytes as f64 * 10.0 / MB as f64).round() as i64;
    let sep = if lang == Lang::Vi { ',' } else { '.' };
    match tenths % 10 {
        0 => format!("{} MB", number(lang, tenths / 10)),
        t => format!("{}{sep}{t} MB", number(lang, tenths / 10)),
    }
}

/// A date as people here write it: 31/12/2030.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_said_as_people_read_them() {
        assert_eq!(size(Lang::Vi, 10 * 1024 * 1024), "10 MB");
        assert_eq!(size(Lang::Vi, 1536 * 1024), "1,5 MB");
        assert_eq!(size(Lang::En, 1536 * 1024), "1.5 MB");
        assert_eq!(size(Lang::Vi, 262_144), "256 KB");
        assert_eq!(size(Lang::Vi, 2000), "2 KB");
        assert_eq!(size(Lang::Vi, 2000 * 1024 * 1024), "2.000 MB");
    }

    #[test]
    fn every_language_has_the_same_keys() {
        let vi = Catalogs::keys(Lang::Vi);
        for lang in Lang::ALL {
            let mut theirs = Catalogs::keys(lang);
            let mut ours = vi.clone();
            theirs.sort();
            ours.sort();
            assert_eq!(theirs, ours, "locales/{}.ftl", lang.code());
        }
        assert!(vi.len() > 50, "the catalogs hold the console's words");
    }

    #[test]
    fn every_field_message_and_domain_word_is_in_the_catalogs() {
        let c = Catalogs::load().unwrap();
        let mut wanted: Vec<String> = crate::domain::validation::msg::KEYS.iter().map(|k| format!("err-{k}")).collect();
        wanted.extend(crate::domain::workflow::Status::ALL.map(|s| format!("status-{}", s.as_str())));
        wanted.extend(crate::domain::workflow::Action::ALL.map(|a| format!("action-{}", a.as_str())));
        wanted.extend(crate::domain::role::Role::ALL.map(|r| format!("role-{}", r.as_str())));
        wanted.extend(crate::domain::handling::System::ALL.map(|s| format!("system-{s}")));
        wanted.extend(crate::domain::handling::Category::ALL.map(|c| format!("category-{c}")));
        wanted.extend(crate::domain::case_terms::SubjectKind::ALL.map(|s| format!("subject-{s}")));
        wanted.extend(crate::domain::role::UnitKind::ALL.map(|k| format!("kind-{}", k.as_str())));
        wanted.extend(crate::model::alert::OUTBOX_STATUSES.map(|s| format!("outbox-{s}")));
        for key in wanted {
            for lang in Lang::ALL {
                assert!(c.has(lang, &key), "{key} missing from locales/{}.ftl", lang.code());
            }
        }
    }

    #[test]
    fn numbers_and_rates_are_written_the_vietnamese_way() {
        assert_eq!(number(Lang::Vi, 1234567), "1.234.567");
        assert_eq!(number(Lang::En, 1234), "1,234");
        assert_eq!(number(Lang::Vi, 873), "873");
        assert_eq!(percent(Lang::Vi, 368, 873), "42,2%");
        assert_eq!(percent(Lang::En, 368, 873), "42.2%");
        assert_eq!(percent(Lang::Vi, 0, 0), "—");
        assert_eq!(date(NaiveDate::from_ymd_opt(2030, 12, 31).unwrap()), "31/12/2030");
    }

    #[test]
    fn messages_take_their_arguments() {
        let c = Catalogs::load().unwrap();
        assert_eq!(c.text(Lang::Vi, "err-too-long", &[("max", "300".into())]), "Tối đa 300 ký tự.");
        assert_eq!(c.text(Lang::En, "status-open", &[]), "Awaiting review");
        assert_eq!(c.text(Lang::Vi, "status-closed", &[]), "Đã xử lý");
    }
}
