use super::*;

const COOL: Duration = Duration::from_secs(10);

fn breaker(min_calls: u32) -> Breaker {
    Breaker::new(BreakerSettings {
        failure_rate: 0.5,
        min_calls,
        window: Duration::from_secs(30),
        cooldown: COOL,
    })
}

/// `n` calls at `now`, every `every`-th one in trouble (0: none).
fn calls(b: &Breaker, now: Instant, n: u32, every: u32) -> bool {
    let mut opened = false;
    for i in 1..=n {
        if b.admit(now).is_ok() {
            opened |= b.record(every != 0 && i % every == 0, now);
        }
    }
    opened
}

#[test]
fn a_burst_of_consecutive_failures_below_the_minimum_does_not_open() {
    let (b, t0) = (breaker(20), Instant::now());
    assert!(
        !calls(&b, t0, 19, 1),
        "19 failures in a row, under 20 calls"
    );
    assert_eq!(b.admit(t0), Ok(()));
}

#[test]
fn thirty_percent_noise_never_opens() {
    let (b, t0) = (breaker(20), Instant::now());
    // 3 of every 10 calls fail, over two minutes.
    for second in 0..120 {
        let now = t0 + Duration::from_secs(second);
        for i in 0..10 {
            assert_eq!(b.admit(now), Ok(()));
            assert!(!b.record(i < 3, now), "opened at second {second}");
        }
    }
}

#[test]
fn an_outage_opens_once_the_rate_and_the_minimum_are_reached() {
    let (b, t0) = (breaker(20), Instant::now());
    assert!(!calls(&b, t0, 10, 0));
    assert!(calls(&b, t0, 10, 1), "10 of 20 failed: 50%");
    assert_eq!(
        b.admit(t0 + Duration::from_secs(4)),
        Err(Duration::from_secs(6))
    );
}

#[test]
fn failures_older_than_the_window_are_forgotten() {
    let (b, t0) = (breaker(20), Instant::now());
    assert!(!calls(&b, t0, 15, 1));
    let later = t0 + Duration::from_secs(31);
    assert!(
        !calls(&b, later, 10, 2),
        "5 of 10 in the window: under the minimum"
    );
    assert_eq!(b.admit(later), Ok(()));
}

#[test]
fn after_cooldown_exactly_one_trial_goes_out_and_success_closes() {
    let (b, t0) = (breaker(2), Instant::now());
    assert!(calls(&b, t0, 2, 1));
    let later = t0 + COOL;
    assert_eq!(b.wait(later), None, "a trial may go");
    assert_eq!(b.wait(later), None, "waiting admits nothing");
    assert_eq!(b.admit(later), Ok(()), "trial admitted");
    assert!(b.admit(later).is_err(), "second caller waits for the trial");
    assert!(b.wait(later).is_some());
    b.record(false, later);
    assert_eq!(b.admit(later), Ok(()), "successful trial closes");
    assert!(!b.is_open());
}

#[test]
fn failed_trial_reopens_for_a_full_cooldown() {
    let (b, t0) = (breaker(1), Instant::now());
    assert!(calls(&b, t0, 1, 1));
    let later = t0 + COOL;
    assert_eq!(b.admit(later), Ok(()));
    assert!(b.record(true, later), "a failed trial opens it again");
    assert_eq!(
        b.admit(later + Duration::from_secs(1)),
        Err(Duration::from_secs(9))
    );
}

#[test]
fn abandoned_trial_is_replaced_after_another_cooldown() {
    let (b, t0) = (breaker(1), Instant::now());
    assert!(calls(&b, t0, 1, 1));
    assert_eq!(
        b.admit(t0 + COOL),
        Ok(()),
        "trial whose caller never reports"
    );
    assert!(b.admit(t0 + COOL + Duration::from_secs(9)).is_err());
    assert_eq!(b.admit(t0 + COOL * 2), Ok(()), "a new trial");
}
