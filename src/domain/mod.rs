//! Rules with no I/O.

/// A closed set of words stored as text (`status`, `severity`, …): the enum, every value,
/// its stored text, parsing, and the conversions the model's rows map the columns with.
macro_rules! stored_words {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The stored and wire text.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.into_iter().find(|x| x.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Reading the column: a text no value has is a corrupt row.
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $name::parse(&s).ok_or_else(|| format!("{} {s:?} is not one of {:?}", stringify!($name), $name::ALL))
            }
        }

        /// Writing the column.
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_string()
            }
        }
    };
}

pub mod case_terms;

pub mod calendar;
pub mod catalog;
pub mod dates;
pub mod deadline;
pub mod fold;
pub mod handling;
pub mod limits;
pub mod report;
pub mod role;
pub mod text;
pub mod validation;
pub mod workflow;
