//! Client tests against a scripted local fake of Graph and its token
//! endpoint (deliberately not the emulator: no shared code, and the tests
//! control every byte and delay).

use std::time::Duration;

use super::parse_retry_after;

#[test]
fn retry_after_accepts_integer_and_fraction() {
    assert_eq!(parse_retry_after("10"), Some(Duration::from_secs(10)));
    assert_eq!(
        parse_retry_after(" 2.128"),
        Some(Duration::from_millis(2128))
    );
    assert_eq!(parse_retry_after("-1"), None);
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
}
