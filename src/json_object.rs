//! Request bodies are JSON objects. Serde reads a struct from a JSON array
//! too (positionally, past `deny_unknown_fields` and the spec), so every
//! body is parsed through [`parse`], which refuses anything but an object,
//! and every nested struct field goes through [`optional`]. A field of the
//! wrong type is named by its JSON path (`message.cc[0]`).

use serde::de::{DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON, or JSON that is not an object: the body as a whole.
    NotAnObject(String),
    /// An object with a field of the wrong type or value; names the field.
    Field(String),
}

/// The body as `T`, which it must spell as one JSON object.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    let first = body.iter().find(|b| !b" \t\r\n".contains(b));
    if first != Some(&b'{') {
        return Err(BodyError::NotAnObject(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => "The body must be a JSON object ({...}), not an array or a single value."
                    .to_owned(),
                Err(e) => format!("The body is not valid JSON: {e}."),
            },
        ));
    }
    let mut json = serde_json::Deserializer::from_slice(body);
    // Displayed, the error is "<path>: <what>" (no path for the root).
    let value = serde_path_to_error::deserialize::<_, T>(&mut json).map_err(|e| {
        match e.inner().classify() {
            serde_json::error::Category::Data => BodyError::Field(e.to_string()),
            _ => BodyError::NotAnObject(format!("The body is not valid JSON: {}.", e.inner())),
        }
    })?;
    json.end()
        .map_err(|e| BodyError::NotAnObject(format!("The body is not valid JSON: {e}.")))?;
    Ok(value)
}

/// `#[serde(default, deserialize_with = "crate::json_object::optional")]`
/// on an optional struct field: absent, `null`, or an object, never an array.
pub fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Object<T>>::deserialize(deserializer).map(|o| o.map(|Object(t)| t))
}

/// `T`, read only from a JSON object.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(MapOnly(deserializer)).map(Object)
    }
}

/// Asks the inner deserializer for a map whatever `T` asks for, so a struct
/// cannot be read from a sequence.
struct MapOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for MapOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        a: u8,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        name: String,
        #[serde(default, deserialize_with = "optional")]
        inner: Option<Inner>,
    }

    #[test]
    fn objects_parse_and_everything_else_is_refused() {
        let ok = parse::<Outer>(br#" {"name":"x","inner":{"a":1}} "#);
        assert_eq!(ok.unwrap().inner, Some(Inner { a: 1 }));
        assert_eq!(
            parse::<Outer>(br#"{"name":"x","inner":null}"#)
                .unwrap()
                .inner,
            None
        );
        for body in [
            &br#"["x",{"a":1}]"#[..],
            b"\"x\"",
            b"1",
            b"",
            b"{",
            br#"{"name":"x"} x"#,
        ] {
            let e = parse::<Outer>(body).unwrap_err();
            assert!(matches!(e, BodyError::NotAnObject(_)), "{body:?}: {e:?}");
        }
    }

    #[test]
    fn nested_arrays_and_wrong_types_name_their_path() {
        let e = parse::<Outer>(br#"{"name":"x","inner":[1]}"#).unwrap_err();
        let BodyError::Field(detail) = e else {
            panic!("{e:?}")
        };
        assert!(
            detail.starts_with("inner: invalid type: sequence"),
            "{detail}"
        );
        let e = parse::<Outer>(br#"{"name":"x","inner":{"a":"1"}}"#).unwrap_err();
        assert!(
            matches!(&e, BodyError::Field(d) if d.starts_with("inner.a: ")),
            "{e:?}"
        );
        let e = parse::<Outer>(br#"{"inner":null}"#).unwrap_err();
        assert!(
            matches!(&e, BodyError::Field(d) if d.starts_with("missing field `name`")),
            "{e:?}"
        );
    }
}
