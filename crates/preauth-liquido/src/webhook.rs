//! Liquido notifications: verify the `Liquido-Signature` header (HMAC-SHA256 keyed with the
//! client secret, constant-time compare, timestamp within the tolerance window), then parse
//! `{"eventType": …, "data": {"chargeDetails": {…charge…}}}` into a core [`Notification`].
//!
//! The hold's status comes from `chargeDetails.transferStatus`, never from `eventType`
//! (Liquido sends `CHARGE_SUCCEEDED` for payments still `IN_PROGRESS`). Refund events
//! (`CHARGE_REFUND_*`) carry the refund's key in `idempotencyKey` and the payment's key in
//! `referenceId`; they report no hold status (a refund may be partial).

use std::time::Duration;

use preauth_core::webhook::{hmac_sha256_hex, signature_matches};
use preauth_core::{
    Error, ExposeSecret, HoldRef, HoldStatus, Notification, NotificationKind, Result, WebhookAck,
    WebhookRejection, WebhookRequest,
};
use time::OffsetDateTime;

use crate::PROVIDER;
use crate::config::LiquidoConfig;
use crate::convert::{self, HoldContext, TransferStatus};
use crate::sign;
use crate::wire;

/// The acknowledgement Liquido's own Magento plugin answers (Liquido documents none):
/// HTTP 200, `[{"status":200,"message":"received"}]`.
pub fn ack() -> WebhookAck {
    WebhookAck::new(
        200,
        "application/json",
        r#"[{"status":200,"message":"received"}]"#,
    )
}

fn reject(reason: WebhookRejection) -> Error {
    Error::webhook(PROVIDER, reason)
}

/// Verifies `req` at `now` and parses it.
///
/// # Errors
/// [`Error::InvalidWebhook`]: [`WebhookRejection::MissingSignature`] without the header,
/// [`WebhookRejection::Malformed`] for an unreadable header or body,
/// [`WebhookRejection::BadSignature`] when the HMAC does not match,
/// [`WebhookRejection::StaleTimestamp`] when the signed timestamp is outside the window.
pub(crate) fn verify(
    config: &LiquidoConfig,
    req: &WebhookRequest<'_>,
    now: OffsetDateTime,
) -> Result<Notification> {
    let header = req
        .header(sign::SIGNATURE_HEADER)
        .ok_or_else(|| reject(WebhookRejection::MissingSignature))?;
    let parsed = sign::parse_header(header).ok_or_else(|| reject(WebhookRejection::Malformed))?;
    let expected = hmac_sha256_hex(
        config.client_secret.expose_secret().as_bytes(),
        &sign::signed_content(req.body(), parsed.timestamp),
    );
    if !signature_matches(&expected, parsed.signature) {
        return Err(reject(WebhookRejection::BadSignature));
    }
    let signed_at = parsed
        .timestamp
        .parse::<i64>()
        .ok()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .ok_or_else(|| reject(WebhookRejection::Malformed))?;
    let skew = (now - signed_at).unsigned_abs();
    if skew > config.webhook_tolerance() {
        return Err(reject(WebhookRejection::StaleTimestamp));
    }
    parse(req.body(), signed_at, config.hold_validity())
        .ok_or_else(|| reject(WebhookRejection::Malformed))
}

/// Parses a verified body. `None` when it is not a Liquido notification.
fn parse(body: &[u8], signed_at: OffsetDateTime, validity: Duration) -> Option<Notification> {
    let wire::Event {
        event_type: event,
        charge,
    } = wire::event(body).ok()?;
    let event = &*event;
    // An unknown status is refused, never defaulted (refund events included).
    TransferStatus::parse(&charge.transfer_status)?;
    let occurred_at = charge
        .final_status_time
        .as_deref()
        .and_then(convert::parse_time)
        .or(Some(signed_at));
    let dedup_key = format!(
        "{}:{}:{}",
        charge.idempotency_key, charge.transfer_status, event
    );
    let mut n = if event.starts_with("CHARGE_REFUND") {
        let refund = convert::refund_from_charge(&charge, None).ok()?;
        let mut n = Notification::new(
            PROVIDER,
            NotificationKind::Refund,
            refund.hold.clone(),
            event,
            dedup_key,
        );
        n.refund_reference = Some(refund.provider_reference);
        n.amount = Some(refund.amount);
        n
    } else {
        let ctx = HoldContext {
            validity,
            fallback_created: None,
        };
        let hold = convert::hold_from_charge(&charge, &ctx).ok()?;
        let kind = if hold.status == HoldStatus::Disputed || event == "CHARGE_CHARGED_BACK" {
            NotificationKind::Dispute
        } else if event.starts_with("CHARGE_") {
            NotificationKind::Payment
        } else {
            NotificationKind::Other
        };
        let mut n = Notification::new(
            PROVIDER,
            kind,
            HoldRef::both(&hold.provider_reference, &hold.merchant_reference),
            event,
            dedup_key,
        );
        n.status = Some(hold.status);
        n.amount = Some(match hold.status {
            HoldStatus::Captured | HoldStatus::Refunded | HoldStatus::Disputed => hold.captured,
            _ => hold.authorized,
        });
        n
    };
    n.raw_status = Some(charge.transfer_status.into_owned());
    n.occurred_at = occurred_at;
    Some(n)
}
