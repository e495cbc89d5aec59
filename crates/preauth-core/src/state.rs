//! The hold state machine: the transition table, in one place, and the pre-flight checks every
//! provider runs **before** sending anything.
//!
//! ```text
//!                 ┌──────────────► Declined
//!  Pending ──► RequiresAction ──► Authorized ──► Captured ──► Refunded
//!     │              │             │   ▲ │ (decrement,    │  ▲      │
//!     │              │             │   └─┘  re-observe)   ▼  │      ▼
//!     └──────────────┴─────────────┴──► Cancelled       Disputed ◄──┘
//!                                  └──► Expired
//! ```

use time::OffsetDateTime;

use crate::capabilities::{Capabilities, Operation};
use crate::error::{Error, Result};
use crate::hold::{Hold, HoldStatus};
use crate::money::Money;

/// Whether a hold may move from `from` to `to`. Re-observing the same status is always
/// allowed. This is the one transition table of the workspace: simulators enforce it, and
/// notifications are checked against it to spot stale or out-of-order deliveries.
pub fn can_transition(from: HoldStatus, to: HoldStatus) -> bool {
    use HoldStatus::*;
    if from == to {
        return true;
    }
    match from {
        Pending => matches!(
            to,
            RequiresAction | Authorized | Captured | Cancelled | Declined | Expired
        ),
        RequiresAction => matches!(
            to,
            Pending | Authorized | Captured | Cancelled | Declined | Expired
        ),
        Authorized => matches!(to, Captured | Cancelled | Expired),
        Captured => matches!(to, Refunded | Disputed),
        Refunded => matches!(to, Disputed),
        Disputed => matches!(to, Captured | Refunded),
        Cancelled | Declined | Expired => false,
    }
}

/// The status an operation leads to when it succeeds, from a status it is allowed in.
pub fn target_status(op: Operation) -> Option<HoldStatus> {
    match op {
        Operation::Capture => Some(HoldStatus::Captured),
        Operation::Cancel => Some(HoldStatus::Cancelled),
        Operation::Decrement => Some(HoldStatus::Authorized),
        _ => None,
    }
}

fn invalid(op: Operation, hold: &Hold, message: impl Into<String>) -> Error {
    Error::InvalidState {
        operation: op,
        status: hold.status,
        message: message.into(),
    }
}

fn money_err(e: crate::money::MoneyError) -> Error {
    Error::invalid_request(e.to_string())
}

fn check_not_expired(op: Operation, hold: &Hold, now: OffsetDateTime) -> Result<()> {
    if hold.is_expired_at(now) {
        return Err(Error::InvalidState {
            operation: op,
            status: HoldStatus::Expired,
            message: "the hold's validity has run out".into(),
        });
    }
    Ok(())
}

fn check_currency(op: Operation, hold: &Hold, amount: &Money) -> Result<()> {
    if amount.currency() != hold.authorized.currency() {
        return Err(Error::invalid_request(format!(
            "{op} amount is in {} but the hold is in {}",
            amount.currency(),
            hold.authorized.currency()
        )));
    }
    Ok(())
}

/// Pre-flight for a capture of `amount` (`None` = everything that remains).
///
/// Refuses: a hold that is not authorized (or captured with something left, where the
/// provider allows several captures), an expired hold, a second capture where only one is
/// allowed, a zero amount, more than remains, a partial capture where only full capture
/// exists (`Unsupported`), another currency.
///
/// # Errors
/// [`Error::InvalidState`], [`Error::InvalidRequest`] or [`Error::Unsupported`].
pub fn check_capture(
    provider: &'static str,
    caps: &Capabilities,
    hold: &Hold,
    amount: Option<&Money>,
    now: OffsetDateTime,
) -> Result<()> {
    let op = Operation::Capture;
    match hold.status {
        HoldStatus::Authorized => {}
        HoldStatus::Captured if caps.multiple_captures => {}
        HoldStatus::Captured => {
            return Err(invalid(
                op,
                hold,
                format!("{provider} allows one capture per hold"),
            ));
        }
        s => {
            return Err(invalid(
                op,
                hold,
                format!("only an authorized hold can be captured, not a {s} one"),
            ));
        }
    }
    check_not_expired(op, hold, now)?;
    let remaining = hold.capturable().map_err(money_err)?;
    if remaining.is_zero() {
        return Err(invalid(op, hold, "nothing remains to capture"));
    }
    if let Some(amount) = amount {
        check_currency(op, hold, amount)?;
        if amount.is_zero() {
            return Err(Error::invalid_request(
                "capture amount must be greater than zero",
            ));
        }
        match amount.checked_cmp(&remaining).map_err(money_err)? {
            std::cmp::Ordering::Greater => {
                return Err(invalid(
                    op,
                    hold,
                    format!("capture of {amount} exceeds the {remaining} that remains"),
                ));
            }
            std::cmp::Ordering::Less if !caps.partial_capture => {
                return Err(Error::unsupported(
                    provider,
                    op,
                    format!(
                        "partial capture ({amount} of {remaining}); only the full amount can be captured"
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Pre-flight for a cancel: an authorized hold, or a pending one where the provider allows it.
///
/// # Errors
/// [`Error::InvalidState`].
pub fn check_cancel(caps: &Capabilities, hold: &Hold, now: OffsetDateTime) -> Result<()> {
    let op = Operation::Cancel;
    match hold.status {
        HoldStatus::Authorized => check_not_expired(op, hold, now),
        HoldStatus::Pending | HoldStatus::RequiresAction if caps.cancel_pending => Ok(()),
        HoldStatus::Pending | HoldStatus::RequiresAction => Err(invalid(
            op,
            hold,
            "this provider cancels authorized holds only",
        )),
        s => Err(invalid(op, hold, format!("a {s} hold cannot be released"))),
    }
}

/// Pre-flight for a decrement that reduces the hold by `by`: the provider must support it,
/// the hold must be authorized and unexpired, and what remains held must stay above zero.
///
/// # Errors
/// [`Error::Unsupported`], [`Error::InvalidState`] or [`Error::InvalidRequest`].
pub fn check_decrement(
    provider: &'static str,
    caps: &Capabilities,
    hold: &Hold,
    by: &Money,
    now: OffsetDateTime,
) -> Result<()> {
    let op = Operation::Decrement;
    if !caps.decrement {
        return Err(Error::unsupported(provider, op, "holds cannot be reduced"));
    }
    if hold.status != HoldStatus::Authorized {
        return Err(invalid(op, hold, "only an authorized hold can be reduced"));
    }
    check_not_expired(op, hold, now)?;
    check_currency(op, hold, by)?;
    if by.is_zero() {
        return Err(Error::invalid_request(
            "decrement amount must be greater than zero",
        ));
    }
    let remaining = hold.capturable().map_err(money_err)?;
    if by.checked_cmp(&remaining).map_err(money_err)? != std::cmp::Ordering::Less {
        return Err(invalid(
            op,
            hold,
            format!("reducing {remaining} by {by} leaves nothing held; cancel the hold instead"),
        ));
    }
    Ok(())
}

/// Pre-flight for a refund of `amount` (`None` = everything refundable).
///
/// # Errors
/// [`Error::Unsupported`], [`Error::InvalidState`] or [`Error::InvalidRequest`].
pub fn check_refund(
    provider: &'static str,
    caps: &Capabilities,
    hold: &Hold,
    amount: Option<&Money>,
) -> Result<()> {
    let op = Operation::Refund;
    if !caps.refund {
        return Err(Error::unsupported(provider, op, "refunds are not offered"));
    }
    if hold.status != HoldStatus::Captured {
        return Err(invalid(op, hold, "only a captured hold can be refunded"));
    }
    let refundable = hold.refundable().map_err(money_err)?;
    if refundable.is_zero() {
        return Err(invalid(
            op,
            hold,
            "everything captured was already refunded",
        ));
    }
    if let Some(amount) = amount {
        check_currency(op, hold, amount)?;
        if amount.is_zero() {
            return Err(Error::invalid_request(
                "refund amount must be greater than zero",
            ));
        }
        match amount.checked_cmp(&refundable).map_err(money_err)? {
            std::cmp::Ordering::Greater => {
                return Err(invalid(
                    op,
                    hold,
                    format!(
                        "refund of {amount} exceeds the {refundable} captured and not yet refunded"
                    ),
                ));
            }
            std::cmp::Ordering::Less if !caps.partial_refund => {
                return Err(Error::unsupported(
                    provider,
                    op,
                    "partial refunds are not offered",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use HoldStatus::*;

    /// The whole table, written out independently of `can_transition`'s match, so a change
    /// to either shows up here. Row = from, column = to, in `HoldStatus::ALL` order:
    /// Pending, RequiresAction, Authorized, Captured, Cancelled, Declined, Expired, Refunded, Disputed.
    const TABLE: [[u8; 9]; 9] = [
        [1, 1, 1, 1, 1, 1, 1, 0, 0], // Pending
        [1, 1, 1, 1, 1, 1, 1, 0, 0], // RequiresAction
        [0, 0, 1, 1, 1, 0, 1, 0, 0], // Authorized
        [0, 0, 0, 1, 0, 0, 0, 1, 1], // Captured
        [0, 0, 0, 0, 1, 0, 0, 0, 0], // Cancelled
        [0, 0, 0, 0, 0, 1, 0, 0, 0], // Declined
        [0, 0, 0, 0, 0, 0, 1, 0, 0], // Expired
        [0, 0, 0, 0, 0, 0, 0, 1, 1], // Refunded
        [0, 0, 0, 1, 0, 0, 0, 1, 1], // Disputed
    ];

    #[test]
    fn every_pair_of_the_transition_table() {
        let mut checked = 0;
        for (i, from) in HoldStatus::ALL.iter().enumerate() {
            for (j, to) in HoldStatus::ALL.iter().enumerate() {
                assert_eq!(
                    can_transition(*from, *to),
                    TABLE[i][j] == 1,
                    "{from} -> {to}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 81);
    }

    #[test]
    fn final_statuses_go_nowhere() {
        for from in HoldStatus::ALL.into_iter().filter(|s| s.is_final()) {
            for to in HoldStatus::ALL {
                assert_eq!(can_transition(from, to), from == to, "{from} -> {to}");
            }
        }
    }

    fn eur(s: &str) -> Money {
        Money::parse_major(s, Currency::EUR).unwrap()
    }

    fn hold(status: HoldStatus, held: &str) -> Hold {
        Hold::new("test", "p1", "m1", status, "raw", eur(held))
    }

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-01-01 00:00 UTC)
    }

    const ALL_CAPS: Capabilities = Capabilities::none()
        .with_partial_capture(true)
        .with_multiple_captures(true)
        .with_decrement(true)
        .with_cancel_pending(true)
        .with_refund(true)
        .with_partial_refund(true);

    #[test]
    fn capture_is_allowed_only_from_capturable_statuses() {
        let caps = Capabilities::none().with_partial_capture(true);
        for s in HoldStatus::ALL {
            let r = check_capture("t", &caps, &hold(s, "100"), None, now());
            assert_eq!(r.is_ok(), s == Authorized, "{s}");
            if let Err(e) = r {
                assert!(matches!(e, Error::InvalidState { .. }), "{s}: {e}");
            }
        }
    }

    #[test]
    fn capture_rules() {
        let caps = Capabilities::none().with_partial_capture(true);
        let h = hold(Authorized, "100");
        assert!(check_capture("t", &caps, &h, Some(&eur("100")), now()).is_ok());
        assert!(check_capture("t", &caps, &h, Some(&eur("40")), now()).is_ok());
        // More than remains.
        let e = check_capture("t", &caps, &h, Some(&eur("100.01")), now()).unwrap_err();
        assert!(matches!(e, Error::InvalidState { .. }), "{e}");
        // Zero and another currency.
        assert!(matches!(
            check_capture("t", &caps, &h, Some(&eur("0")), now()),
            Err(Error::InvalidRequest { .. })
        ));
        let usd = Money::parse_major("1", Currency::USD).unwrap();
        assert!(matches!(
            check_capture("t", &caps, &h, Some(&usd), now()),
            Err(Error::InvalidRequest { .. })
        ));
        // Full capture only.
        let full_only = Capabilities::none();
        assert!(matches!(
            check_capture("t", &full_only, &h, Some(&eur("40")), now()),
            Err(Error::Unsupported { .. })
        ));
        assert!(check_capture("t", &full_only, &h, Some(&eur("100")), now()).is_ok());
        // Expired by its validity.
        let expired = h.clone().with_expires_at(now());
        assert!(matches!(
            check_capture("t", &caps, &expired, None, now()),
            Err(Error::InvalidState {
                status: Expired,
                ..
            })
        ));
    }

    #[test]
    fn second_capture() {
        let mut h = hold(Captured, "100");
        h.captured = eur("40");
        h.capture_count = 1;
        // One capture only.
        let one = Capabilities::none().with_partial_capture(true);
        assert!(matches!(
            check_capture("t", &one, &h, None, now()),
            Err(Error::InvalidState { .. })
        ));
        // Several captures: up to what remains.
        assert!(check_capture("t", &ALL_CAPS, &h, Some(&eur("60")), now()).is_ok());
        assert!(check_capture("t", &ALL_CAPS, &h, Some(&eur("60.01")), now()).is_err());
        h.captured = eur("100");
        assert!(check_capture("t", &ALL_CAPS, &h, None, now()).is_err());
    }

    #[test]
    fn cancel_rules() {
        for s in HoldStatus::ALL {
            let strict = check_cancel(&Capabilities::none(), &hold(s, "1"), now()).is_ok();
            assert_eq!(strict, s == Authorized, "{s}");
            let lenient = check_cancel(&ALL_CAPS, &hold(s, "1"), now()).is_ok();
            assert_eq!(
                lenient,
                matches!(s, Authorized | Pending | RequiresAction),
                "{s}"
            );
        }
    }

    #[test]
    fn decrement_rules() {
        let h = hold(Authorized, "100");
        assert!(matches!(
            check_decrement("t", &Capabilities::none(), &h, &eur("10"), now()),
            Err(Error::Unsupported { .. })
        ));
        assert!(check_decrement("t", &ALL_CAPS, &h, &eur("99.99"), now()).is_ok());
        // To zero or below.
        for by in ["100", "100.01", "1000"] {
            assert!(
                matches!(
                    check_decrement("t", &ALL_CAPS, &h, &eur(by), now()),
                    Err(Error::InvalidState { .. })
                ),
                "{by}"
            );
        }
        assert!(matches!(
            check_decrement("t", &ALL_CAPS, &h, &eur("0"), now()),
            Err(Error::InvalidRequest { .. })
        ));
        for s in HoldStatus::ALL.into_iter().filter(|s| *s != Authorized) {
            assert!(check_decrement("t", &ALL_CAPS, &hold(s, "100"), &eur("1"), now()).is_err());
        }
    }

    #[test]
    fn refund_rules() {
        let mut h = hold(Captured, "100");
        h.captured = eur("80");
        h.refunded = eur("30");
        assert!(check_refund("t", &ALL_CAPS, &h, Some(&eur("50"))).is_ok());
        assert!(matches!(
            check_refund("t", &ALL_CAPS, &h, Some(&eur("50.01"))),
            Err(Error::InvalidState { .. })
        ));
        let no_partial = Capabilities::none().with_refund(true);
        assert!(matches!(
            check_refund("t", &no_partial, &h, Some(&eur("10"))),
            Err(Error::Unsupported { .. })
        ));
        assert!(matches!(
            check_refund("t", &Capabilities::none(), &h, None),
            Err(Error::Unsupported { .. })
        ));
        assert!(matches!(
            check_refund("t", &ALL_CAPS, &hold(Authorized, "1"), None),
            Err(Error::InvalidState { .. })
        ));
    }
}
