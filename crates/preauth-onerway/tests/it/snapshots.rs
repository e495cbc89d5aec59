//! Snapshots of every request: URL, body, the exact string that is hashed (values in key
//! order, then the secret) and the resulting `sign`. Each is compared with the docs' examples
//! field by field in the comment next to it. Fixed clock (seed 001's time) and keys.

use std::collections::BTreeMap;

use preauth_core::transport::{HttpRequest, HttpResponse};
use preauth_core::{
    Address, AuthorizeRequest, CancelRequest, CaptureRequest, CardDetails, Currency, Document,
    Hold, HoldRef, IdempotencyKey, LineItem, LineItemKind, Money, Payer, PaymentMethod,
    RefundRequest,
};
use preauth_onerway::sign::{REQUEST_EXCLUDED, canonical_values, sign, wire_value};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::common::{TEST_SECRET, seed_client};

/// Seed 001's request, field for field, as a core request.
pub(crate) fn seed_request() -> AuthorizeRequest {
    let usd = |s: &str| Money::parse_major(s, Currency::USD).unwrap();
    let card = CardDetails::new("2221008123677736", 12, 2030, "789", "test sandbox").unwrap();
    let address = Address::new("US")
        .with_complement("Apt. 870")
        .with_city("Hayward")
        .with_postal_code("66977");
    let payer = Payer::new("CL", "BRW2")
        .with_email("abel.wang@onerway.com")
        .with_phone("17700492982")
        .with_document(Document::new("CPF", "717.628.937-97"))
        .with_billing_address(address.clone());
    AuthorizeRequest::new(usd("200"), PaymentMethod::Card(card))
        .with_idempotency_key(IdempotencyKey::new("1721799203000").unwrap())
        .with_payer(payer)
        .with_shipping_address(address)
        .with_line_item(LineItem::new("Pro1", usd("50.00"), 2))
        .with_line_item(LineItem::new("Pro2", usd("100"), 1))
        .with_line_item(
            LineItem::new("shipping fee", usd("10"), 1).with_kind(LineItemKind::ShippingFee),
        )
        .with_line_item(LineItem::new("discount", usd("10"), 1).with_kind(LineItemKind::Discount))
        .with_return_url("https://www.merchant-store-website.com/")
        .with_notify_url("https://www.merchant-store-notify.com/")
        .with_customer_ip("127.0.0.1")
}

/// The request as the snapshot shows it, after checking that `sign` is exactly the
/// signature of the other fields as sent and that the content type is exactly
/// `application/json`.
fn view(req: &HttpRequest) -> Value {
    let debug = format!("{req:?}");
    assert!(
        debug.contains(r#"("content-type", "application/json")"#),
        "{debug}"
    );
    let body: BTreeMap<String, Value> = serde_json::from_slice(req.body_bytes()).unwrap();
    for (k, v) in &body {
        assert!(v.is_string(), "{k}: every top-level value is a string");
    }
    let wire: BTreeMap<&str, Option<String>> = body
        .iter()
        .map(|(k, v)| (k.as_str(), wire_value(v)))
        .collect();
    let values = canonical_values(
        wire.iter().map(|(k, v)| (*k, v.as_deref())),
        REQUEST_EXCLUDED,
    );
    let expected = sign(&values, &SecretString::from(TEST_SECRET));
    assert_eq!(
        body["sign"].as_str(),
        Some(expected.as_str()),
        "sign is over the bytes sent"
    );
    // The body is serialized once, compactly, keys in order.
    assert_eq!(
        serde_json::to_vec(&body).unwrap(),
        req.body_bytes().to_vec()
    );
    json!({
        "url": req.url(),
        "body": body,
        "string_to_sign": format!("{values}{TEST_SECRET}"),
        "sign": expected,
    })
}

const SEED_RESPONSE: &str = include_str!("fixtures/seed_001_response.json");

/// Seed 001's hold, as parsed from its response.
pub(crate) fn seed_hold() -> Hold {
    let (client, _) = seed_client();
    let req = seed_request();
    let key = req.idempotency_key.clone().unwrap();
    client
        .parse_authorize(&req, &key, &HttpResponse::new(200, SEED_RESPONSE))
        .unwrap()
}

#[test]
fn authorize_reproduces_seed_001() {
    let (client, _) = seed_client();
    let req = seed_request();
    let key = client.authorize_key(&req);
    let http = client.build_authorize(&req, &key).unwrap();
    let v = view(&http);
    let body = &v["body"];
    // Field by field against seed 001's request (docs "预授权下单请求响应示例"):
    // identical: merchantNo, merchantTxnId, merchantTxnTime, merchantTxnTimeZone,
    // productType, subProductType, txnType, orderCurrency, and the three nested strings
    // billingInformation, shippingInformation and cardInfo, byte for byte.
    let seed = |k: &str| SEED_REQUEST[k].as_str().unwrap().to_owned();
    for k in [
        "merchantNo",
        "merchantTxnId",
        "merchantTxnTime",
        "merchantTxnTimeZone",
        "productType",
        "subProductType",
        "txnType",
        "orderCurrency",
        "billingInformation",
        "shippingInformation",
        "cardInfo",
    ] {
        assert_eq!(body[k].as_str().unwrap(), seed(k), "{k}");
    }
    // Different on purpose: amounts are written at the currency's scale ("200.00", "100.00",
    // "10.00", "-10.00") where the seed wrote "200", "100", "10", "-10"; the docs accept
    // both ("major units, decimal string"). With that substitution, txnOrderMsg (and the
    // products JSON string inside it) is the seed's byte for byte.
    assert_eq!(body["orderAmount"], "200.00");
    let seed_msg = seed("txnOrderMsg")
        .replace(r#"\"price\":\"100\""#, r#"\"price\":\"100.00\""#)
        .replace(r#"\"price\":\"10\""#, r#"\"price\":\"10.00\""#)
        .replace(r#"\"price\":\"-10\""#, r#"\"price\":\"-10.00\""#);
    assert_eq!(body["txnOrderMsg"].as_str().unwrap(), seed_msg);
    // `sign` differs from the seed's: the seed's secret key is not published.
    insta::assert_json_snapshot!("authorize_seed_001", v);
}

const SEED_REQUEST_TEXT: &str = include_str!("fixtures/seed_001_request.json");

static SEED_REQUEST: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| serde_json::from_str(SEED_REQUEST_TEXT).unwrap());

#[test]
fn authorize_with_browser_data_and_no_line_items() {
    let (client, _) = seed_client();
    let amount = Money::parse_major("120.00", Currency::EUR).unwrap();
    let mut req =
        preauth_testkit::harness::standard_request(amount, preauth_testkit::cards::THREE_DS, "BR");
    req.line_items.clear();
    let key = client.authorize_key(&req);
    assert_eq!(key.as_str(), "hold-000001", "a generated key");
    let v = view(&client.build_authorize(&req, &key).unwrap());
    // Against docs api-direct.md's txnOrderMsg table: returnUrl, appId, notifyUrl, products,
    // transactionIp, then the 3-D Secure browser fields javaEnabled (a JSON boolean),
    // colorDepth, screenHeight, screenWidth, timeZoneOffset (strings, as the showcase sends
    // them), accept, userAgent, language. Without line items the whole amount is one product
    // named after the description. billingInformation carries province (the state), street,
    // number and the address line; identityNumber is the document number.
    insta::assert_json_snapshot!("authorize_browser", v);
}

#[test]
fn capture_of_the_seed_hold() {
    let (client, _) = seed_client();
    let http = client
        .build_capture(&CaptureRequest::new(seed_hold()))
        .unwrap();
    // Against the docs' capture example (api-direct-auth-capture.md): merchantNo,
    // merchantTxnId, originTransactionId (the AUTH's transactionId, signed), txnType
    // "CAPTURE", sign; no amount field (full capture only). merchantTxnId is derived from the
    // authorization's: "1721799203000-capture".
    insta::assert_json_snapshot!("capture", view(&http));
}

#[test]
fn void_of_the_seed_hold() {
    let (client, _) = seed_client();
    let http = client
        .build_cancel(&CancelRequest::new(seed_hold()))
        .unwrap();
    // Against the docs' reversal page (api-direct-auth-reverse.md): the capture's body with
    // txnType "VOID"; merchantTxnId "1721799203000-void".
    insta::assert_json_snapshot!("void", view(&http));
}

#[test]
fn list_by_merchant_reference_and_by_transaction_id() {
    let (client, _) = seed_client();
    let by_merchant = client
        .build_retrieve(&HoldRef::merchant("1721799203000"))
        .unwrap();
    // Against the docs' query example (api-order-inquiry.md): merchantNo, merchantTxnIds
    // (comma-separated: the authorization and its derived capture and void keys), current
    // "1"; the example's empty transactionIds, txnTypes, startTime, endTime are not sent
    // (empty values are neither signed nor needed).
    insta::assert_json_snapshot!("list_by_merchant_txn_ids", view(&by_merchant));
    let by_id = client
        .build_retrieve(&HoldRef::provider("1815983598810308608"))
        .unwrap();
    // Same, by transactionIds.
    insta::assert_json_snapshot!("list_by_transaction_ids", view(&by_id));
}

#[test]
fn refund_of_the_captured_seed_hold() {
    let (client, _) = seed_client();
    let mut hold = seed_hold();
    hold.status = preauth_core::HoldStatus::Captured;
    hold.captured = hold.authorized;
    hold.capture_count = 1;
    hold.capture_reference = Some("1815983598810309999".into());
    let req = RefundRequest::new(hold)
        .with_amount(Money::parse_major("30", Currency::USD).unwrap())
        .with_idempotency_key(IdempotencyKey::new("refund-1").unwrap());
    let key = req.idempotency_key.clone().unwrap();
    let http = client.build_refund(&req, &key).unwrap();
    // Against docs refund.md: merchantNo, refundType "0" (apply), merchantTxnId,
    // originTransactionId (the CAPTURE's transactionId), refundAmount in major units of the
    // order currency; all signed.
    insta::assert_json_snapshot!("refund", view(&http));
}
