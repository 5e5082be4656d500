//! Wall-clock readings in the exact textual formats Graph and the token service use.

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// Graph's `innerError.date`: ISO 8601 without a zone suffix (graph.md §3.1).
const INNER_ERROR_DATE: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
/// Edm.DateTimeOffset as Graph serialises it, e.g. `2021-03-03T09:25:12Z`.
const GRAPH_DATE_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
/// The token service's `timestamp`, e.g. `2016-01-09 02:02:12Z` (graph.md §6.3).
const AAD_TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");

/// An instant in the token service's error texts, e.g. `2024-10-02T22:05:03.0000000Z`.
const AAD_INSTANT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z");

pub(super) fn inner_error_date() -> String {
    now(INNER_ERROR_DATE)
}

pub(super) fn graph_date_time() -> String {
    now(GRAPH_DATE_TIME)
}

/// [`graph_date_time`] on a directory clock `offset_ms` ahead of the real one (behind
/// when negative): Graph's servers and the client need not agree on the time.
pub(super) fn directory_date_time(offset_ms: i64) -> String {
    let now = OffsetDateTime::now_utc();
    // The control route bounds the offset; out of range it is ignored, never a panic.
    let at = now.checked_add(time::Duration::milliseconds(offset_ms));
    at.unwrap_or(now)
        .format(GRAPH_DATE_TIME)
        .unwrap_or_default()
}

pub(super) fn aad_timestamp() -> String {
    now(AAD_TIMESTAMP)
}

/// RFC 3339 with fractional seconds, for the emulator's own records (applied resets):
/// ordering two resets a few milliseconds apart needs more than Graph's whole seconds.
pub(super) fn rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `unix` seconds (a JWT time claim) as the token service writes instants in messages.
pub(super) fn aad_instant(unix: u64) -> String {
    let at = i64::try_from(unix)
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(AAD_INSTANT).unwrap_or_default()
}

/// Seconds since the Unix epoch, for JWT `iat`/`nbf`/`exp`.
pub(super) fn unix_seconds() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or_default()
}

fn now(format: &[BorrowedFormatItem<'static>]) -> String {
    // Formatting a UTC timestamp with a literal-only description cannot fail in practice;
    // an empty string is still better than a panic inside a request.
    OffsetDateTime::now_utc().format(format).unwrap_or_default()
}
