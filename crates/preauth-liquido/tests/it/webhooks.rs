//! Webhooks: a known-answer vector computed independently (Liquido publishes none), every
//! rejection reason, parsing by `transferStatus`, refund and chargeback events, and the
//! simulator's signed notifications.

use std::sync::Arc;
use std::time::Duration;

use preauth_core::sim::Fault;
use preauth_core::{
    CaptureRequest, Currency, Error, HoldStatus, ManualClock, Money, NotificationKind,
    PreauthProvider, RefundRequest, WebhookRejection, WebhookRequest,
};
use preauth_liquido::{Liquido, LiquidoConfig};
use preauth_testkit::harness::{Harness, cards};
use time::macros::datetime;

use crate::harness::LiquidoHarness;

const SECRET: &str = "test-client-secret";

/// A full `CHARGE_SUCCEEDED` notification, signed at 1767225600 (2026-01-01 00:00:00 UTC)
/// with the key "test-client-secret". Liquido publishes no test vector; this signature was
/// computed independently with Python's standard library:
///
/// ```text
/// python3 -c 'import hmac,hashlib; body=open("body.json","rb").read();
///   print(hmac.new(b"test-client-secret", b"payload="+body+b",timestamp=1767225600",
///   hashlib.sha256).hexdigest())'
/// ```
const BODY: &str = r#"{"eventType":"CHARGE_SUCCEEDED","data":{"chargeDetails":{"transferStatusCode":200,"transferErrorMsg":null,"idempotencyKey":"1ec983fa-1a37-679b-809b-067861d87ab0","referenceId":"1ec983fa-1a37-679b-809b-067861d87ab0","paymentMethod":"CREDIT_CARD","amount":1000,"currency":"PEN","finalAmount":1000,"finalCurrency":"PEN","country":"PE","createTime":"2022-03-01 17:53:18 GMT-08:00","finalStatusTime":"2022-03-01 17:55:00 GMT-08:00","transferStatus":"SETTLED"}}}"#;
const SIGNATURE: &str = "534f6614d1f3c91cf776be31c40edb293fbdbc99ecf19bde338bcdb130e198e7";
const TIMESTAMP: i64 = 1_767_225_600;

fn client_at(clock: &ManualClock) -> Liquido {
    Liquido::new(LiquidoConfig::new("id", SECRET, "api-key"))
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
}

fn header(ts: i64, sig: &str) -> String {
    format!("algorithm=HmacSHA256,timestamp={ts},signature={sig}")
}

fn verify(
    c: &Liquido,
    header: Option<&str>,
    body: &[u8],
) -> preauth_core::Result<preauth_core::Notification> {
    let headers: Vec<(&str, &str)> = header
        .map(|h| {
            vec![
                ("Content-Type", "application/json"),
                ("Liquido-Signature", h),
            ]
        })
        .unwrap_or_default();
    c.verify_webhook(&WebhookRequest::new(&headers, body))
}

fn rejection(r: preauth_core::Result<preauth_core::Notification>) -> WebhookRejection {
    match r {
        Err(Error::InvalidWebhook { reason, .. }) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn known_answer_vector_verifies_and_parses() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let c = client_at(&clock);
    assert_eq!(
        preauth_liquido::sign::signature(SECRET, BODY.as_bytes(), &TIMESTAMP.to_string()),
        SIGNATURE,
        "the crate computes the independently computed vector"
    );
    let n = verify(&c, Some(&header(TIMESTAMP, SIGNATURE)), BODY.as_bytes()).unwrap();
    assert_eq!(n.provider, "liquido");
    assert_eq!(n.kind, NotificationKind::Payment);
    assert_eq!(
        n.hold.provider_reference.as_deref(),
        Some("1ec983fa-1a37-679b-809b-067861d87ab0")
    );
    assert_eq!(
        n.status,
        Some(HoldStatus::Captured),
        "from transferStatus SETTLED"
    );
    assert_eq!(n.raw_status.as_deref(), Some("SETTLED"));
    assert_eq!(n.raw_event, "CHARGE_SUCCEEDED");
    assert_eq!(
        n.amount,
        Some(Money::parse_major("10.00", Currency::PEN).unwrap())
    );
    assert_eq!(
        n.dedup_key,
        "1ec983fa-1a37-679b-809b-067861d87ab0:SETTLED:CHARGE_SUCCEEDED"
    );
    assert_eq!(n.occurred_at, Some(datetime!(2022-03-01 17:55:00 -08:00)));
    // Upper-case hex and spaces around the parts are accepted.
    let loose = format!(
        " algorithm=HmacSHA256 , timestamp={TIMESTAMP} , signature={} ",
        SIGNATURE.to_ascii_uppercase()
    );
    assert!(verify(&c, Some(&loose), BODY.as_bytes()).is_ok());
    let ack = c.webhook_ack(&n);
    assert_eq!((ack.status, ack.content_type), (200, "application/json"));
    assert_eq!(ack.body, r#"[{"status":200,"message":"received"}]"#);
}

#[test]
fn rejections() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let c = client_at(&clock);
    let body = BODY.as_bytes();
    assert_eq!(
        rejection(verify(&c, None, body)),
        WebhookRejection::MissingSignature
    );
    for bad in [
        "",
        "signature=abc",
        "algorithm=HmacSHA1,timestamp=1767225600,signature=abc",
        "timestamp=soon,signature=abc",
    ] {
        assert_eq!(
            rejection(verify(&c, Some(bad), body)),
            WebhookRejection::Malformed,
            "{bad}"
        );
    }
    // Another key, another body, another timestamp: the signature does not match.
    let other_key = preauth_liquido::sign::signature("another-secret", body, "1767225600");
    assert_eq!(
        rejection(verify(&c, Some(&header(TIMESTAMP, &other_key)), body)),
        WebhookRejection::BadSignature
    );
    let tampered = BODY.replace("\"amount\":1000", "\"amount\":9000");
    assert_eq!(
        rejection(verify(
            &c,
            Some(&header(TIMESTAMP, SIGNATURE)),
            tampered.as_bytes()
        )),
        WebhookRejection::BadSignature
    );
    assert_eq!(
        rejection(verify(&c, Some(&header(TIMESTAMP + 1, SIGNATURE)), body)),
        WebhookRejection::BadSignature
    );
    assert_eq!(
        rejection(verify(&c, Some(&header(TIMESTAMP, &SIGNATURE[..63])), body)),
        WebhookRejection::BadSignature
    );
}

#[test]
fn timestamp_tolerance_window() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let c = client_at(&clock);
    let h = header(TIMESTAMP, SIGNATURE);
    clock.advance(Duration::from_secs(300));
    assert!(
        verify(&c, Some(&h), BODY.as_bytes()).is_ok(),
        "300 s late is within 300 s"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        rejection(verify(&c, Some(&h), BODY.as_bytes())),
        WebhookRejection::StaleTimestamp
    );
    // From the future, too.
    clock.set(datetime!(2025-12-31 23:54:59 UTC));
    assert_eq!(
        rejection(verify(&c, Some(&h), BODY.as_bytes())),
        WebhookRejection::StaleTimestamp
    );
    // A configured window.
    let wide = Liquido::new(
        LiquidoConfig::new("id", SECRET, "api-key")
            .with_webhook_tolerance(Duration::from_secs(3600)),
    )
    .unwrap()
    .with_clock(Arc::new(ManualClock::new(datetime!(2026-01-01 00:59 UTC))));
    assert!(verify(&wide, Some(&h), BODY.as_bytes()).is_ok());
}

fn signed(body: &str) -> (String, Vec<u8>) {
    (
        preauth_liquido::sign::signature_header(SECRET, body.as_bytes(), TIMESTAMP),
        body.as_bytes().to_vec(),
    )
}

#[test]
fn status_comes_from_transfer_status_not_the_event_name() {
    let c = client_at(&ManualClock::new(datetime!(2026-01-01 00:00 UTC)));
    // Liquido sends CHARGE_SUCCEEDED for payments still in progress (a PIX awaiting payment).
    let body = BODY
        .replace("\"SETTLED\"", "\"IN_PROGRESS\"")
        .replace("CREDIT_CARD", "PIX_DYNAMIC_QR");
    let (h, b) = signed(&body);
    let n = verify(&c, Some(&h), &b).unwrap();
    assert_eq!(n.status, Some(HoldStatus::Pending));
    assert_eq!(n.occurred_at, Some(datetime!(2022-03-01 17:55:00 -08:00)));
    // An authorization announced as CHARGE_SUCCEEDED is an authorized hold, not a capture.
    let (h, b) = signed(&BODY.replace("\"SETTLED\"", "\"AUTHORIZED\""));
    assert_eq!(
        verify(&c, Some(&h), &b).unwrap().status,
        Some(HoldStatus::Authorized)
    );
    // A chargeback.
    let (h, b) = signed(
        &BODY
            .replace("\"SETTLED\"", "\"CHARGED_BACK\"")
            .replace("CHARGE_SUCCEEDED", "CHARGE_CHARGED_BACK"),
    );
    let n = verify(&c, Some(&h), &b).unwrap();
    assert_eq!(n.kind, NotificationKind::Dispute);
    assert_eq!(n.status, Some(HoldStatus::Disputed));
    // An unknown status is refused, never defaulted.
    let (h, b) = signed(&BODY.replace("\"SETTLED\"", "\"PAID\""));
    assert_eq!(
        rejection(verify(&c, Some(&h), &b)),
        WebhookRejection::Malformed
    );
    // A verified body that is not a notification.
    for body in [
        "{}",
        "[]",
        "{\"eventType\":\"CHARGE_SUCCEEDED\"}",
        "{\"eventType\":\"X\",\"data\":{}}",
    ] {
        let (h, b) = signed(body);
        assert_eq!(
            rejection(verify(&c, Some(&h), &b)),
            WebhookRejection::Malformed,
            "{body}"
        );
    }
}

#[test]
fn refund_events_name_the_refund_and_the_payment() {
    let c = client_at(&ManualClock::new(datetime!(2026-01-01 00:00 UTC)));
    // Docs payin/el_salvador/refund, "Notification / Callback" shape.
    let body = r#"{"eventType":"CHARGE_REFUND_SUCCEEDED","data":{"chargeDetails":{"amount":300,"callbackUrl":"https://api.client.com/callback/","country":"SV","finalAmount":100,"finalCurrency":"USD","createTime":"2022-03-01 15:10:35 GMT+08:00","currency":"USD","description":"refund test","finalStatusTime":"2022-03-01 15:10:37 GMT+08:00","idempotencyKey":"2022030114000005-1","referenceId":"2022030114000005","paymentMethod":"CARD","transferStatus":"SETTLED","transferStatusCode":200,"transferErrorMsg":null}}}"#;
    let (h, b) = signed(body);
    let n = verify(&c, Some(&h), &b).unwrap();
    assert_eq!(n.kind, NotificationKind::Refund);
    assert_eq!(
        n.hold.provider_reference.as_deref(),
        Some("2022030114000005")
    );
    assert_eq!(n.refund_reference.as_deref(), Some("2022030114000005-1"));
    assert_eq!(
        n.status, None,
        "a refund event does not say whether the hold is fully refunded"
    );
    assert_eq!(n.raw_status.as_deref(), Some("SETTLED"));
    assert_eq!(
        n.amount,
        Some(Money::parse_major("3.00", Currency::USD).unwrap())
    );
    assert_eq!(
        n.dedup_key,
        "2022030114000005-1:SETTLED:CHARGE_REFUND_SUCCEEDED"
    );
}

#[tokio::test]
async fn simulator_notifications_round_trip() {
    let h = LiquidoHarness::start().await;
    let p = h.provider();
    let brl = |s: &str| Money::parse_major(s, Currency::BRL).unwrap();
    let hold = p
        .authorize(h.authorize_request(brl("50.00"), cards::APPROVE))
        .await
        .unwrap();
    let verify_now = |reference: &str| {
        let (headers, body) = h.sim.notification_for(reference).expect("a notification");
        let refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        p.verify_webhook(&WebhookRequest::new(&refs, &body))
    };
    let n = verify_now(&hold.provider_reference).unwrap();
    assert_eq!(n.status, Some(HoldStatus::Authorized));
    let captured = p.capture(CaptureRequest::new(hold.clone())).await.unwrap();
    assert_eq!(
        verify_now(&hold.provider_reference).unwrap().status,
        Some(HoldStatus::Captured)
    );
    let refund = p
        .refund(RefundRequest::new(captured).with_amount(brl("20.00")))
        .await
        .unwrap();
    let n = verify_now(&refund.provider_reference).unwrap();
    assert_eq!(n.kind, NotificationKind::Refund);
    assert_eq!(n.amount, Some(brl("20.00")));
    assert_eq!(
        n.hold.provider_reference.as_deref(),
        Some(hold.provider_reference.as_str())
    );
    // A bad signature from the fault plan, then a good one again.
    h.control().faults.once(Fault::BadSignature);
    let e = verify_now(&hold.provider_reference).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidWebhook {
                reason: WebhookRejection::BadSignature,
                ..
            }
        ),
        "{e}"
    );
    assert!(verify_now(&hold.provider_reference).is_ok());
    // A delivery kept too long is stale at the client's clock.
    let (headers, body) = h.sim.notification_for(&hold.provider_reference).unwrap();
    h.control().clock.advance(Duration::from_secs(301));
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let e = p
        .verify_webhook(&WebhookRequest::new(&refs, &body))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidWebhook {
                reason: WebhookRejection::StaleTimestamp,
                ..
            }
        ),
        "{e}"
    );
    // Unknown references have no notification.
    assert!(h.sim.notification_for("no-such-charge").is_none());
}
