//! Snapshots of every request body with its string to sign, at a fixed clock
//! (2026-01-01T00:00:00Z = 1767225600) and sequential keys (`key000001`, …). Each snapshot was
//! compared field by field with the docs' example request of its method; the comments say
//! how.

use preauth_core::{
    AuthorizeRequest, CancelRequest, CaptureRequest, CardDetails, DecrementRequest, HoldRef,
    PaymentMethod, RefundRequest,
};

use crate::common::*;

const T0: i64 = 1_767_225_600;

fn card() -> PaymentMethod {
    PaymentMethod::Card(CardDetails::new("4111111111111111", 3, 2030, "737", "Ana Silva").unwrap())
}

/// card.html (v3.CreateCardPayments, direct card): pay_method `online`; sub_pay_method `Card`
/// (cn page; the en page's `Cards HPP` is the hosted page's value); `operation` `2`
/// (authorisation); `order_id`; `3ds_initiate` `01`; `cardinfo` as a JSON **string** with
/// card_holder, card_number, expiration_month `MM`, expiration_year `YYYY`, cvc (signed as
/// that string, unsorted inside, as the en note says); `amount` as a major-unit string
/// (`24.99` → here `100`, trimmed like the docs' `"1"`); `currency`; `description`;
/// `timeout` in minutes; `redirect_url`; `notify_url`; `request_id`. The docs' example string
/// (cards.html) sorts `3ds_initiate` first, as here, and keeps `sub_pay_method=Credit Card`
/// with its raw space: values are not URL-encoded. `time` is a JSON number.
#[test]
fn authorize_with_a_card() {
    let c = client(T0);
    let req = AuthorizeRequest::new(eur("100.00"), card())
        .with_description("Hotel stay deposit")
        .with_return_url("https://merchant.example/return")
        .with_notify_url("https://merchant.example/notify");
    let p = c.build_authorize(&req).unwrap();
    insta::assert_snapshot!("authorize_card", render(&p.request));
}

/// card.html: `payment_token_object` replaces `cardinfo` for a saved card; the config's
/// redirect and notify URLs fill in for the request's; the default description.
#[test]
fn authorize_with_a_saved_card_token() {
    let c = client(T0);
    let req = AuthorizeRequest::new(
        eur("24.99"),
        PaymentMethod::SavedCard {
            id: "tok_0a1b2c3d4e5f".into(),
        },
    )
    .with_idempotency_key(key("order-2026-0001-abcdefghijklmn"));
    let p = c.build_authorize(&req).unwrap();
    insta::assert_snapshot!("authorize_token", render(&p.request));
}

/// capture.html example request: `description`, `trade_id`, `amount`, `currency`,
/// `notify_url`, `request_id`, in that order; amount `60` trimmed like the docs' `"1"`.
#[test]
fn capture_partial() {
    let c = client(T0);
    let hold = authorized(
        "160899f3-f6d9-a8d8-ab5b-82eacdab9c5b",
        "100.00",
        at(T0 - 3600),
    );
    let p = c
        .build_capture(&CaptureRequest::new(hold).with_amount(eur("60.00")))
        .unwrap();
    insta::assert_snapshot!("capture", render(&p.request));
}

/// Seed 002 example request: `description`, `trade_id`, `amount` (the reduction, `30`),
/// `currency`, `notify_url`, `request_id`, in that order.
#[test]
fn decrement() {
    let c = client(T0);
    let hold = authorized(
        "9222e0e1-6ef5-639f-3692-90f1e2a33e68",
        "100.00",
        at(T0 - 3600),
    );
    let p = c
        .build_decrement(&DecrementRequest::new(hold, eur("30.00")).with_description("test"))
        .unwrap();
    insta::assert_snapshot!("decrement", render(&p.request));
}

/// cancel.html: `data` is `{trade_id}` only; no request_id.
#[test]
fn cancel() {
    let c = client(T0);
    let hold = authorized(
        "4a49ffb3-a30f-ba92-9422-1969afb6f121",
        "80.00",
        at(T0 - 3600),
    );
    let p = c.build_cancel(&CancelRequest::new(hold)).unwrap();
    insta::assert_snapshot!("cancel", render(&p.request));
}

/// query.html: `data` is `{trade_id}`.
#[test]
fn query_order() {
    let c = client(T0);
    let p = c
        .build_retrieve(&HoldRef::provider("2eb629a8-96ad-d495-38f2-41f5bebf31cd"))
        .unwrap();
    insta::assert_snapshot!("query_order", render(&p.request));
}

/// refund.html: `trade_id`, `m_refund_id` (the refund's key), `refund_amount`,
/// `refund_currency`, `refund_description`, `notify_url`.
#[test]
fn refund_partial() {
    let c = client(T0);
    let hold = captured(
        "5feb401d-d9a4-776f-211f-882b60f14d9d",
        "100.00",
        at(T0 - 3600),
    );
    let p = c
        .build_refund(&RefundRequest::new(hold).with_amount(eur("30.00")))
        .unwrap();
    insta::assert_snapshot!("refund", render(&p.request));
}

/// queryrefund.html: `data` is `{refund_id}`.
#[test]
fn query_refund_order() {
    let c = client(T0);
    let p = c
        .build_retrieve_refund("3841510a-4d18-4a61-808d-431a45006de2")
        .unwrap();
    insta::assert_snapshot!("query_refund_order", render(&p.request));
}
