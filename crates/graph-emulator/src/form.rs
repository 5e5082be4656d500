//! The authority's wire formats: `application/x-www-form-urlencoded` bodies and query
//! strings, and HTTP Basic client credentials (RFC 6749 §2.3.1, which form-encodes id
//! and secret first).
//! Written here rather than borrowed so the emulator reads bytes exactly as it documents.

/// Parses a form body into name/value pairs, in order. Malformed escapes are kept
/// literally, as lenient servers do; the caller validates the values it needs.
pub(super) fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut halves = pair.splitn(2, |b| *b == b'=');
            let name = form_decode(halves.next().unwrap_or_default());
            let value = form_decode(halves.next().unwrap_or_default());
            (name, value)
        })
        .collect()
}

/// The first value of `name`, if present.
pub(super) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Decodes one form-encoded component: `+` is a space, `%XX` a byte.
pub(super) fn form_decode(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                input.get(i + 1).and_then(hex),
                input.get(i + 2).and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes one component for a form body or query string: everything but RFC
/// 3986's unreserved characters, a space as `%20` (which both form and URI decoders read).
pub(super) fn form_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn hex(byte: &u8) -> Option<u8> {
    char::from(*byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Client id and secret from an `Authorization: Basic ...` value, if it is one.
pub(super) fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let (scheme, encoded) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64_decode(encoded.trim())?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let (id, secret) = (&decoded[..colon], &decoded[colon + 1..]);
    Some((form_decode(id), form_decode(secret)))
}

/// Standard-alphabet base64 with optional padding; `None` on any invalid character.
fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in input.trim_end_matches('=').bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_pairs_are_decoded_in_order() {
        let form = parse_form(
            b"grant_type=client_credentials&scope=https%3A%2F%2Fg%2F.default&x=a+b&flag",
        );
        assert_eq!(field(&form, "scope"), Some("https://g/.default"));
        assert_eq!(field(&form, "x"), Some("a b"));
        assert_eq!(field(&form, "flag"), Some(""));
        assert_eq!(form[0].0, "grant_type");
    }

    #[test]
    fn encoding_round_trips_through_decoding() {
        let text = "a b+c/d?e=f&g~é";
        assert_eq!(form_encode(text), "a%20b%2Bc%2Fd%3Fe%3Df%26g~%C3%A9");
        assert_eq!(form_decode(form_encode(text).as_bytes()), text);
    }

    #[test]
    fn basic_credentials_are_base64_then_form_decoded() {
        // "id:se%2Bcret~" -> secret "se+cret~"
        let header = "Basic aWQ6c2UlMkJjcmV0fg==";
        assert_eq!(
            basic_credentials(header),
            Some(("id".to_owned(), "se+cret~".to_owned()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }
}
