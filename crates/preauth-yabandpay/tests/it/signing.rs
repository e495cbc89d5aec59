//! Known-answer tests: the docs' strings to sign, rebuilt byte for byte from requests this
//! crate builds with the docs' values. (The docs' signatures cannot be checked: YabandPay
//! publishes no secret key, and its capture page shows two different signatures for one
//! string. The HMAC itself is checked against RFC 4231 below.)

use preauth_core::{CancelRequest, CaptureRequest, DecrementRequest, HoldRef, RefundRequest};
use preauth_yabandpay::YabandPayConfig;
use preauth_yabandpay::sign;
use serde_json::json;

use crate::common::*;

/// Seed 002 (preauthdecrement, cn), with the `&curren;`/`&not;` damage repaired: the seed
/// prints `¤cy` for `&currency` and `¬ify_url` for `&notify_url`.
const SEED_DECREMENT_STRING: &str = "amount=0.1&currency=EUR&description=test&method=v3.PreauthDecrement&notify_url=https://www.yabandpay.com/notify&request_id=skc5vtsovtetqe09us0jdrqm1vjdeaki&time=1774246236&trade_id=9222e0e1-6ef5-639f-3692-90f1e2a33e68&user=016683";

#[test]
fn seed_decrement_string_to_sign_is_reproduced_from_the_request() {
    let c = client(1_774_246_236);
    let hold = authorized(
        "9222e0e1-6ef5-639f-3692-90f1e2a33e68",
        "1.10",
        at(1_774_000_000),
    );
    let req = DecrementRequest::new(hold, eur("0.10"))
        .with_idempotency_key(key("skc5vtsovtetqe09us0jdrqm1vjdeaki"))
        .with_description("test");
    let p = c.build_decrement(&req).unwrap();
    assert_eq!(string_to_sign(&p.request), SEED_DECREMENT_STRING);
    assert_signed(&p.request);
    // The seed's example request, field by field (its `sign` needs the unpublished secret).
    let body = body_json(&p.request);
    assert_eq!(body["user"], "016683");
    assert_eq!(body["method"], "v3.PreauthDecrement");
    assert_eq!(body["time"], 1_774_246_236);
    assert_eq!(
        body["data"],
        json!({
            "description": "test",
            "trade_id": "9222e0e1-6ef5-639f-3692-90f1e2a33e68",
            "amount": "0.1",
            "currency": "EUR",
            "notify_url": "https://www.yabandpay.com/notify",
            "request_id": "skc5vtsovtetqe09us0jdrqm1vjdeaki"
        })
    );
    // The docs' data order is kept in the bytes sent.
    let text = std::str::from_utf8(p.request.body_bytes()).unwrap();
    assert!(text.starts_with(r#"{"user":"016683","sign":""#), "{text}");
    assert!(text.contains(r#","method":"v3.PreauthDecrement","time":1774246236,"data":{"description":"test","trade_id":"9222e0e1-6ef5-639f-3692-90f1e2a33e68","amount":"0.1","currency":"EUR","notify_url":"https://www.yabandpay.com/notify","request_id":"skc5vtsovtetqe09us0jdrqm1vjdeaki"}}"#), "{text}");
}

#[test]
fn seed_string_with_the_html_entity_damage_is_recognised() {
    // The seed as printed: `&curren` and `&not` were decoded as HTML entities.
    let damaged = "amount=0.1¤cy=EUR&description=test&method=v3.PreauthDecrement¬ify_url=https://www.yabandpay.com/notify&request_id=skc5vtsovtetqe09us0jdrqm1vjdeaki&time=1774246236&trade_id=9222e0e1-6ef5-639f-3692-90f1e2a33e68&user=016683";
    let repaired = damaged.replace('¤', "&curren").replace('¬', "&not");
    assert_eq!(repaired, SEED_DECREMENT_STRING);
}

/// others/cancel.html.
#[test]
fn cancel_string_to_sign_from_the_docs() {
    let c = client(1_546_588_959);
    let hold = authorized(
        "4a49ffb3-a30f-ba92-9422-1969afb6f121",
        "1",
        at(1_546_500_000),
    );
    let p = c.build_cancel(&CancelRequest::new(hold)).unwrap();
    assert_eq!(
        string_to_sign(&p.request),
        "method=v3.CancelPayment&time=1546588959&trade_id=4a49ffb3-a30f-ba92-9422-1969afb6f121&user=016683"
    );
    assert_eq!(
        body_json(&p.request)["data"],
        json!({"trade_id": "4a49ffb3-a30f-ba92-9422-1969afb6f121"})
    );
}

/// cards/capture.html (en and cn print the same string; their signatures differ).
#[test]
fn capture_string_to_sign_from_the_docs() {
    let c = client(1_720_684_254);
    let hold = authorized(
        "160899f3-f6d9-a8d8-ab5b-82eacdab9c5b",
        "1",
        at(1_720_600_000),
    );
    let req = CaptureRequest::new(hold)
        .with_idempotency_key(key("ca51f2fas3i0f8uiw7efj6oe4i2w1ghj"))
        .with_description("test");
    let p = c.build_capture(&req).unwrap();
    assert_eq!(
        string_to_sign(&p.request),
        "amount=1&currency=EUR&description=test&method=v3.Capture&notify_url=https://www.yabandpay.com/notify&request_id=ca51f2fas3i0f8uiw7efj6oe4i2w1ghj&time=1720684254&trade_id=160899f3-f6d9-a8d8-ab5b-82eacdab9c5b&user=016683"
    );
}

/// others/query.html.
#[test]
fn query_string_to_sign_from_the_docs() {
    let c = client(1_728_566_835);
    let p = c
        .build_retrieve(&HoldRef::provider("2eb629a8-96ad-d495-38f2-41f5bebf31cd"))
        .unwrap();
    assert_eq!(
        string_to_sign(&p.request),
        "method=v3.QueryOrder&time=1728566835&trade_id=2eb629a8-96ad-d495-38f2-41f5bebf31cd&user=016683"
    );
}

/// others/refund.html (its notify URL).
#[test]
fn refund_string_to_sign_from_the_docs() {
    let c = client_with(
        1_546_588_959,
        YabandPayConfig::new(USER, SECRET)
            .with_notify_url("https://www.yabandmedia.com/pay/redirectpage.php"),
    );
    let hold = captured(
        "5feb401d-d9a4-776f-211f-882b60f14d9d",
        "1",
        at(1_546_500_000),
    );
    let req = RefundRequest::new(hold)
        .with_amount(eur("0.10"))
        .with_idempotency_key(key("20240304094405131317"))
        .with_description("test");
    let p = c.build_refund(&req).unwrap();
    assert_eq!(
        string_to_sign(&p.request),
        "m_refund_id=20240304094405131317&method=v3.CreateRefund&notify_url=https://www.yabandmedia.com/pay/redirectpage.php&refund_amount=0.1&refund_currency=EUR&refund_description=test&time=1546588959&trade_id=5feb401d-d9a4-776f-211f-882b60f14d9d&user=016683"
    );
}

/// refund/queryrefund.html prints `method=…&time=…&refund_id=…&user=…`, which is not sorted;
/// the signing rules say sorted, so this crate signs the sorted string.
#[test]
fn query_refund_string_is_sorted_unlike_the_docs_example() {
    let c = client(1_728_566_835);
    let p = c
        .build_retrieve_refund("3841510a-4d18-4a61-808d-431a45006de2")
        .unwrap();
    assert_eq!(
        string_to_sign(&p.request),
        "method=v3.QueryRefundOrder&refund_id=3841510a-4d18-4a61-808d-431a45006de2&time=1728566835&user=016683"
    );
}

/// RFC 4231 test cases 2 and 6 through the signing function.
#[test]
fn hmac_sha256_rfc4231() {
    assert_eq!(
        sign::sign(b"Jefe", "what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        sign::sign(
            &[0xaa; 131],
            "Test Using Larger Than Block-Size Key - Hash Key First"
        ),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}
