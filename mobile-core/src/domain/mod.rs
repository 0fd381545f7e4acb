//! Pure domain types. Every constructor validates ("parse, don't validate"): holding a value of
//! one of these types proves it is well-formed.

/// A closed set of names with their wire strings: the enum, `ALL` in declaration order,
/// `as_str`, `Display` and a `FromStr` whose refusal names the field and a stable
/// `invalid_<field>` code. One definition for every such set in the domain.
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident, $field:literal, $($variant:ident => $text:literal),+ $(,)?) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::error::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    $crate::domain::error::DomainError::new(
                        $field,
                        concat!("invalid_", $field),
                        format!("{s:?} is not one of {}", names.join(", ")),
                    )
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod area;
pub mod category;
pub mod crs;
pub mod emergency;
pub mod erasure;
pub mod error;
pub mod event;
pub mod hotline;
pub mod role;
pub mod sensing;
pub mod supervision;
pub mod task;
pub mod user;
pub mod volunteer;
