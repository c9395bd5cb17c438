//! Settings whose values are a fixed set of names (`--strategy rayon` on the
//! command line, `strategy="rayon"` in Python, `"strategy": "rayon"` in a
//! record): each type spells its names once, in the table [`choice!`] gives
//! it, and is parsed, printed, serialized and offered as a flag's possible
//! values from there.

use std::fmt;

/// A setting with a fixed set of named values. Implemented by [`choice!`],
/// which also gives the type `Display`, `FromStr`, `Serialize` and
/// `Deserialize` by the same names.
pub trait Choice: Copy + PartialEq + Send + Sync + 'static {
    /// Every value, its name and one line of help, in the order help lists them.
    const CHOICES: &'static [(Self, &'static str, &'static str)];

    /// The value's name, as every interface spells it.
    fn name(self) -> &'static str;

    /// One line saying what the value does.
    fn help(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|(value, _, _)| *value == self)
            .map_or("", |(_, _, help)| help)
    }

    /// The value called `name`, or an error listing the names there are.
    fn from_name(name: &str) -> Result<Self, UnknownChoice> {
        Self::CHOICES
            .iter()
            .find(|(_, known, _)| *known == name)
            .map(|(value, _, _)| *value)
            .ok_or_else(|| UnknownChoice {
                given: name.to_string(),
                names: Self::CHOICES.iter().map(|(_, name, _)| *name).collect(),
            })
    }

    /// Every value, in table order.
    fn all() -> Vec<Self> {
        Self::CHOICES.iter().map(|(value, _, _)| *value).collect()
    }
}

/// A name that is none of a setting's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownChoice {
    /// What was given.
    pub given: String,
    /// The names there are.
    pub names: Vec<&'static str>,
}

impl fmt::Display for UnknownChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown '{}': one of {}",
            self.given,
            self.names.join(", ")
        )
    }
}

impl std::error::Error for UnknownChoice {}

/// Serde for a [`Choice`], by name (what [`choice!`] plugs in).
#[doc(hidden)]
pub mod serde_by_name {
    use super::Choice;

    /// Serializes the value's name.
    pub fn serialize<T: Choice, S: serde::Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.name())
    }

    /// Reads a value from its name.
    pub fn deserialize<'de, T: Choice, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        let name = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        T::from_name(&name).map_err(serde::de::Error::custom)
    }
}

/// Makes a fieldless enum a [`Choice`]: one line per variant, its name and
/// its help. The name match is exhaustive, so a variant left out does not
/// compile.
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// pub enum Codec { Fast, Small }
/// predbench_common::choice! { Codec:
///     Fast = "fast", "Quick to write.";
///     Small = "small", "Fewer bytes.";
/// }
/// assert_eq!("small".parse::<Codec>(), Ok(Codec::Small));
/// assert_eq!(Codec::Fast.to_string(), "fast");
/// ```
#[macro_export]
macro_rules! choice {
    ($type:ident: $($variant:ident = $name:literal, $help:literal;)+) => {
        impl $type {
            /// The value's name, as the command line, Python and the records spell it.
            pub fn name(self) -> &'static str {
                match self {
                    $($type::$variant => $name,)+
                }
            }
        }

        impl $crate::choice::Choice for $type {
            const CHOICES: &'static [(Self, &'static str, &'static str)] =
                &[$(($type::$variant, $name, $help)),+];

            fn name(self) -> &'static str {
                $type::name(self)
            }
        }

        impl ::std::fmt::Display for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::choice::Choice::name(*self))
            }
        }

        impl ::std::str::FromStr for $type {
            type Err = $crate::choice::UnknownChoice;

            fn from_str(name: &str) -> ::std::result::Result<Self, Self::Err> {
                <$type as $crate::choice::Choice>::from_name(name)
            }
        }

        impl $crate::serde::Serialize for $type {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                $crate::choice::serde_by_name::serialize(self, serializer)
            }
        }

        impl<'de> $crate::serde::Deserialize<'de> for $type {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                $crate::choice::serde_by_name::deserialize(deserializer)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::Choice;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Speed {
        Slow,
        VeryFast,
    }

    crate::choice! { Speed:
        Slow = "slow", "Takes its time.";
        VeryFast = "very-fast", "Hurries.";
    }

    #[test]
    fn names_parse_print_and_serialize_the_same_way() {
        assert_eq!(Speed::VeryFast.name(), "very-fast");
        assert_eq!(Choice::name(Speed::VeryFast), "very-fast");
        assert_eq!(Speed::VeryFast.to_string(), "very-fast");
        assert_eq!(Speed::Slow.help(), "Takes its time.");
        assert_eq!("slow".parse::<Speed>(), Ok(Speed::Slow));
        assert_eq!(Speed::all(), [Speed::Slow, Speed::VeryFast]);
        assert_eq!(
            serde_json::to_string(&Speed::VeryFast).unwrap(),
            "\"very-fast\""
        );
        assert_eq!(
            serde_json::from_str::<Speed>("\"slow\"").unwrap(),
            Speed::Slow
        );
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let error = "fast".parse::<Speed>().unwrap_err();
        assert_eq!(error.to_string(), "unknown 'fast': one of slow, very-fast");
        let error = serde_json::from_str::<Speed>("\"fast\"").unwrap_err();
        assert!(
            error.to_string().contains("one of slow, very-fast"),
            "{error}"
        );
    }
}
