//! The simulator's HTTP endpoints and the rules behind them.

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use preauth_core::webhook::signature_matches;
use preauth_core::{Currency, Money};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use time::UtcOffset;

use super::{Simulator, State as SimState, Txn, cards, codes, reason_text};
use crate::config::{format_offset, parse_offset};
use crate::convert::{
    HOLD_VALIDITY, PATH_AUTH_PAYMENT, PATH_LIST, PATH_REFUND, PATH_TRANSACTION, format_time,
};
use crate::sign::{REQUEST_EXCLUDED, canonical_values, sign, wire_value};
use crate::webhook::notification_sign;

pub(super) fn router(sim: Simulator) -> Router {
    Router::new()
        .route(PATH_TRANSACTION, post(do_transaction))
        .route(PATH_AUTH_PAYMENT, post(auth_payment))
        .route(PATH_REFUND, post(online_refund))
        .route(PATH_LIST, post(list))
        .route("/sim/3ds/{id}", get(three_ds_page).post(three_ds_complete))
        .with_state(sim)
}

/// A refusal: `respCode` and `respMsg`.
struct Reject(&'static str, String);

fn reject(code: &'static str, msg: impl Into<String>) -> Reject {
    Reject(code, msg.into())
}

type Fields = BTreeMap<String, Option<String>>;

fn answer(result: Result<Value, Reject>) -> Response {
    let body = match result {
        Ok(data) => json!({"respCode": codes::SUCCESS, "respMsg": "Success", "data": data}),
        Err(Reject(code, msg)) => json!({"respCode": code, "respMsg": msg, "data": null}),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn required<'a>(f: &'a Fields, k: &str) -> Result<&'a str, Reject> {
    f.get(k)
        .and_then(|v| v.as_deref())
        .ok_or_else(|| reject(codes::MISSING_PARAMETER, format!("{k} is required")))
}

fn optional<'a>(f: &'a Fields, k: &str) -> Option<&'a str> {
    f.get(k).and_then(|v| v.as_deref())
}

impl Simulator {
    /// Content type, JSON object, merchant number and signature, as Onerway checks them.
    fn accept(&self, headers: &HeaderMap, body: &[u8]) -> Result<Fields, Reject> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct.trim().eq_ignore_ascii_case("application/json") {
            return Err(reject(
                codes::CONTENT_TYPE,
                "Content-Type must be application/json",
            ));
        }
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return Err(reject(
                codes::INVALID_PARAMETER,
                "the request body is not a JSON object",
            ));
        };
        let fields: Fields = map
            .iter()
            .map(|(k, v)| (k.clone(), wire_value(v)))
            .collect();
        let st = self.lock();
        if optional(&fields, "merchantNo") != Some(st.merchant_no.as_str()) {
            return Err(reject(codes::INVALID_MERCHANT, "merchantNo is invalid"));
        }
        let received = optional(&fields, "sign").unwrap_or("");
        let values = canonical_values(
            fields.iter().map(|(k, v)| (k.as_str(), v.as_deref())),
            REQUEST_EXCLUDED,
        );
        if received.is_empty() || !signature_matches(&sign(&values, &st.secret), received) {
            return Err(reject(codes::SIGN_INVALID, "Sign verification failed"));
        }
        Ok(fields)
    }

    fn fresh_merchant_txn_id<'a>(st: &SimState, f: &'a Fields) -> Result<&'a str, Reject> {
        let key = required(f, "merchantTxnId")?;
        if key.len() > 64 {
            return Err(reject(
                codes::INVALID_PARAMETER,
                "merchantTxnId is longer than 64 characters",
            ));
        }
        if st.by_merchant_txn_id.contains_key(key) {
            return Err(reject(
                codes::DUPLICATE_MERCHANT_TXN_ID,
                "merchantTxnId already exists",
            ));
        }
        Ok(key)
    }

    fn authorize(&self, f: &Fields, host: Option<&str>) -> Result<Value, Reject> {
        let now = self.now();
        for k in [
            "productType",
            "subProductType",
            "txnType",
            "orderAmount",
            "orderCurrency",
            "txnOrderMsg",
            "cardInfo",
            "billingInformation",
            "shippingInformation",
        ] {
            required(f, k)?;
        }
        if required(f, "txnType")? != "AUTH" {
            return Err(reject(
                codes::INVALID_PARAMETER,
                "the simulator handles txnType AUTH only",
            ));
        }
        if required(f, "productType")? != "CARD" || required(f, "subProductType")? != "DIRECT" {
            return Err(reject(
                codes::INVALID_PARAMETER,
                "the simulator handles productType CARD, subProductType DIRECT only",
            ));
        }
        let currency = Currency::from_code(required(f, "orderCurrency")?)
            .map_err(|_| reject(codes::INVALID_PARAMETER, "orderCurrency is invalid"))?;
        let amount = Money::parse_major(required(f, "orderAmount")?, currency)
            .ok()
            .filter(|m| !m.is_zero())
            .ok_or_else(|| reject(codes::INVALID_PARAMETER, "orderAmount is invalid"))?;
        let zone = match optional(f, "merchantTxnTimeZone") {
            Some(z) => parse_offset(z).ok_or_else(|| {
                reject(codes::INVALID_PARAMETER, "merchantTxnTimeZone is invalid")
            })?,
            None => UtcOffset::UTC,
        };

        let order = object(required(f, "txnOrderMsg")?, "txnOrderMsg")?;
        let app_id = self.lock().app_id.clone();
        if order.get("appId").and_then(Value::as_str) != Some(app_id.as_str()) {
            return Err(reject(codes::INVALID_APP_ID, "appId is invalid"));
        }
        check_products(&order, &amount)?;
        let return_url = order
            .get("returnUrl")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let notify_url = order
            .get("notifyUrl")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .map(str::to_owned);

        let card = object(required(f, "cardInfo")?, "cardInfo")?;
        let text = |k: &str| card.get(k).and_then(Value::as_str).unwrap_or("");
        let number = text("cardNumber");
        if !(12..=19).contains(&number.len())
            || !number.bytes().all(|b| b.is_ascii_digit())
            || !luhn(number)
        {
            return Err(reject(codes::INVALID_CARD_NUMBER, "invalid card number"));
        }
        let month: u8 = text("month")
            .parse()
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or_else(|| reject(codes::INVALID_PARAMETER, "month is invalid"))?;
        let year: i32 = match text("year") {
            y if y.len() == 4 => y.parse().ok(),
            y if y.len() == 2 => y.parse::<i32>().ok().map(|y| 2000 + y),
            _ => None,
        }
        .ok_or_else(|| reject(codes::INVALID_YEAR, "year must have 2 or 4 digits"))?;
        if (year, month) < (now.year(), u8::from(now.month())) {
            return Err(reject(codes::CARD_EXPIRED, "the card has expired"));
        }
        let cvv = text("cvv");
        if !(3..=4).contains(&cvv.len()) || !cvv.bytes().all(|b| b.is_ascii_digit()) {
            return Err(reject(codes::INVALID_PARAMETER, "cvv is invalid"));
        }
        let billing = object(required(f, "billingInformation")?, "billingInformation")?;
        for k in ["email", "country"] {
            if billing
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                return Err(reject(
                    codes::MISSING_PARAMETER,
                    format!("billingInformation.{k} is required"),
                ));
            }
        }
        object(required(f, "shippingInformation")?, "shippingInformation")?;

        let mut st = self.lock();
        st.expire(now);
        let key = Self::fresh_merchant_txn_id(&st, f)?.to_owned();
        let id = st.next_id();
        let (status, reason, action_type, redirect_url, eci) = match number {
            cards::DECLINE => (
                "F",
                Some((codes::DO_NOT_HONOR, "Do Not Honor".to_owned())),
                None,
                None,
                None,
            ),
            cards::THREE_DS => (
                "R",
                None,
                Some("RedirectURL"),
                Some(format!(
                    "http://{}/sim/3ds/{id}",
                    host.unwrap_or("onerway-simulator.invalid")
                )),
                None,
            ),
            _ => (
                "S",
                Some((codes::SUCCESS, "Success".to_owned())),
                None,
                None,
                Some("05"),
            ),
        };
        let masked = format!("{}******{}", &number[..6], &number[number.len() - 4..]);
        let txn = Txn {
            id,
            merchant_txn_id: key,
            kind: "AUTH",
            origin: None,
            origin_merchant_txn_id: None,
            status,
            reason,
            amount,
            created: now,
            zone,
            card_masked: Some(masked),
            holder_name: Some(text("holderName").to_owned()).filter(|h| !h.is_empty()),
            redirect_url,
            action_type,
            return_url,
            eci,
            notify_url,
        };
        let data = txn_data(&txn, &st, now);
        let id = txn.id.clone();
        st.insert(txn);
        drop(st);
        self.notify(&id);
        Ok(data)
    }

    fn auth_payment(&self, f: &Fields) -> Result<Value, Reject> {
        let now = self.now();
        let txn_type = required(f, "txnType")?;
        let kind = match txn_type {
            "CAPTURE" => "CAPTURE",
            "VOID" => "VOID",
            _ => {
                return Err(reject(
                    codes::INVALID_PARAMETER,
                    "txnType must be CAPTURE or VOID",
                ));
            }
        };
        let origin = required(f, "originTransactionId")?;
        let mut st = self.lock();
        st.expire(now);
        let key = Self::fresh_merchant_txn_id(&st, f)?.to_owned();
        let auth = match st.txns.get(origin) {
            Some(t) if t.kind == "AUTH" => t.clone(),
            _ => {
                return Err(reject(
                    codes::TRANSACTION_ID_INCORRECT,
                    "Transaction ID is incorrect",
                ));
            }
        };
        if st.done(&auth.id, "CAPTURE").is_some() {
            return Err(reject(
                codes::INVALID_STATE,
                "The authorization has already been captured",
            ));
        }
        if st.done(&auth.id, "VOID").is_some() {
            return Err(reject(
                codes::INVALID_STATE,
                "The authorization has already been voided",
            ));
        }
        match auth.status {
            "S" => {}
            "N" if now >= auth.created + HOLD_VALIDITY => {
                return Err(reject(
                    codes::INVALID_STATE,
                    "The authorization expired uncaptured",
                ));
            }
            _ => {
                return Err(reject(
                    codes::INVALID_STATE,
                    "The authorization is not successful",
                ));
            }
        }
        let id = st.next_id();
        let txn = Txn {
            id,
            merchant_txn_id: key,
            kind,
            origin: Some(auth.id.clone()),
            origin_merchant_txn_id: Some(auth.merchant_txn_id.clone()),
            status: "S",
            reason: Some((codes::SUCCESS, "Success".into())),
            amount: auth.amount,
            created: now,
            zone: auth.zone,
            card_masked: auth.card_masked.clone(),
            holder_name: auth.holder_name.clone(),
            redirect_url: None,
            action_type: None,
            return_url: None,
            eci: auth.eci,
            notify_url: auth.notify_url.clone(),
        };
        let data = txn_data(&txn, &st, now);
        let id = txn.id.clone();
        st.insert(txn);
        drop(st);
        self.notify(&id);
        Ok(data)
    }

    fn refund(&self, f: &Fields) -> Result<Value, Reject> {
        let now = self.now();
        let refund_type = required(f, "refundType")?;
        let origin = required(f, "originTransactionId")?;
        let mut st = self.lock();
        if refund_type == "1" {
            // Withdraw a refund application still in audit.
            return match st.txns.get_mut(origin) {
                Some(t) if t.kind == "REFUND" && t.status == "I" => {
                    t.status = "N";
                    Ok(Value::String(t.id.clone()))
                }
                _ => Err(reject(
                    codes::TRANSACTION_ID_INCORRECT,
                    "Transaction ID is incorrect",
                )),
            };
        }
        if refund_type != "0" {
            return Err(reject(
                codes::INVALID_PARAMETER,
                "refundType must be 0 or 1",
            ));
        }
        let captured = match st.txns.get(origin) {
            Some(t) if t.kind == "CAPTURE" && t.status == "S" => t.clone(),
            Some(_) => {
                return Err(reject(
                    codes::INVALID_STATE,
                    "Only a successful capture can be refunded",
                ));
            }
            None => {
                return Err(reject(
                    codes::TRANSACTION_ID_INCORRECT,
                    "Transaction ID is incorrect",
                ));
            }
        };
        let amount = Money::parse_major(required(f, "refundAmount")?, captured.amount.currency())
            .ok()
            .filter(|m| !m.is_zero())
            .ok_or_else(|| reject(codes::INVALID_PARAMETER, "refundAmount is invalid"))?;
        let mut total = amount;
        for r in st.txns.values().filter(|r| {
            r.kind == "REFUND"
                && r.origin.as_deref() == Some(origin)
                && matches!(r.status, "S" | "I")
        }) {
            total = total
                .checked_add(&r.amount)
                .map_err(|_| reject(codes::INVALID_PARAMETER, "refundAmount is invalid"))?;
        }
        if total.checked_cmp(&captured.amount) == Ok(std::cmp::Ordering::Greater) {
            return Err(reject(
                codes::INVALID_STATE,
                "The refund amount exceeds the refundable amount",
            ));
        }
        let key = match optional(f, "merchantTxnId") {
            Some(_) => Self::fresh_merchant_txn_id(&st, f)?.to_owned(),
            None => format!("refund-{}", st.next_id),
        };
        let id = st.next_id();
        st.insert(Txn {
            id: id.clone(),
            merchant_txn_id: key,
            kind: "REFUND",
            origin: Some(captured.id.clone()),
            origin_merchant_txn_id: Some(captured.merchant_txn_id.clone()),
            status: "I",
            reason: None,
            amount,
            created: now,
            zone: captured.zone,
            card_masked: captured.card_masked.clone(),
            holder_name: captured.holder_name.clone(),
            redirect_url: None,
            action_type: None,
            return_url: None,
            eci: None,
            notify_url: captured.notify_url.clone(),
        });
        Ok(Value::String(id))
    }

    fn list(&self, f: &Fields) -> Result<Value, Reject> {
        let now = self.now();
        let current: usize = required(f, "current")?
            .parse()
            .map_err(|_| reject(codes::INVALID_PARAMETER, "current is invalid"))?;
        let size: usize = match optional(f, "size") {
            Some(s) => s
                .parse()
                .ok()
                .filter(|s| (1..=100).contains(s))
                .ok_or_else(|| reject(codes::INVALID_PARAMETER, "size is invalid"))?,
            None => 10,
        };
        let split = |k: &str| -> Option<Vec<String>> {
            optional(f, k).map(|v| v.split(',').map(|s| s.trim().to_owned()).collect())
        };
        let merchant_ids = split("merchantTxnIds");
        let ids = split("transactionIds");
        let types = split("txnTypes");
        let window = match (optional(f, "startTime"), optional(f, "endTime")) {
            (Some(a), Some(b)) => Some((a.to_owned(), b.to_owned())),
            _ => None,
        };
        if merchant_ids.is_none() && ids.is_none() && window.is_none() {
            return Err(reject(
                codes::MISSING_PARAMETER,
                "merchantTxnIds, transactionIds or startTime and endTime are required",
            ));
        }
        let mut st = self.lock();
        st.expire(now);
        let st = &*st;
        // Look ids up in the indexes; scan only for a time window.
        let candidates: Vec<&Txn> = match (&merchant_ids, &ids) {
            (Some(m), _) => m
                .iter()
                .filter_map(|k| st.by_merchant_txn_id.get(k))
                .filter_map(|id| st.txns.get(id))
                .collect(),
            (None, Some(i)) => i.iter().filter_map(|id| st.txns.get(id)).collect(),
            (None, None) => st.txns.values().collect(),
        };
        let mut matching: Vec<&Txn> = candidates
            .into_iter()
            .filter(|t| ids.as_ref().is_none_or(|m| m.contains(&t.id)))
            .filter(|t| types.as_ref().is_none_or(|m| m.iter().any(|x| x == t.kind)))
            .filter(|t| {
                window.as_ref().is_none_or(|(a, b)| {
                    let at = format_time(t.created, t.zone);
                    a.as_str() <= at.as_str() && at.as_str() <= b.as_str()
                })
            })
            .collect();
        matching.sort_by(|a, b| a.id.cmp(&b.id));
        matching.dedup_by(|a, b| a.id == b.id);
        let total = matching.len();
        let page = current.max(1);
        let content: Vec<Value> = matching
            .iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
            .map(|t| list_item(t, st))
            .collect();
        Ok(json!({
            "content": content,
            "current": page.to_string(),
            "size": size.to_string(),
            "totalPages": total.div_ceil(size).to_string(),
            "totalElements": total.to_string(),
        }))
    }
}

fn object(text: &str, what: &str) -> Result<Map<String, Value>, Reject> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(reject(
            codes::INVALID_PARAMETER,
            format!("{what} is not a JSON object string"),
        )),
    }
}

/// `products` (a JSON string inside `txnOrderMsg`) must add up to `orderAmount`.
fn check_products(order: &Map<String, Value>, amount: &Money) -> Result<(), Reject> {
    let bad = |m: &str| reject(codes::PRODUCTS_MISMATCH, m.to_owned());
    let products = order
        .get("products")
        .and_then(Value::as_str)
        .ok_or_else(|| reject(codes::MISSING_PARAMETER, "txnOrderMsg.products is required"))?;
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(products) else {
        return Err(bad("txnOrderMsg.products is not a JSON array string"));
    };
    let mut total = Decimal::ZERO;
    for item in &items {
        let text = |k: &str| item.get(k).and_then(wire_value).unwrap_or_default();
        let price = Decimal::from_str(&text("price"))
            .map_err(|_| bad("a product price is not a decimal"))?;
        let num = Decimal::from_str(&text("num")).map_err(|_| bad("a product num is invalid"))?;
        if text("currency") != amount.currency().code() {
            return Err(bad("a product is in another currency than orderCurrency"));
        }
        total = price
            .checked_mul(num)
            .and_then(|line| total.checked_add(line))
            .ok_or_else(|| bad("products overflow"))?;
    }
    if total != amount.amount() {
        return Err(bad("The sum of products does not match orderAmount"));
    }
    Ok(())
}

fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

fn text_or_null(v: Option<String>) -> Value {
    v.map_or(Value::Null, Value::String)
}

/// `TxnInfo` as doTransaction and authPayment return it, signed like a notification.
fn txn_data(t: &Txn, st: &SimState, now: time::OffsetDateTime) -> Value {
    let mut fields: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        fields.insert(k.to_owned(), v);
    };
    put("transactionId", Some(t.id.clone()));
    put("merchantTxnId", Some(t.merchant_txn_id.clone()));
    put("responseTime", Some(format_time(now, t.zone)));
    put("txnTime", Some(format_time(t.created, t.zone)));
    put("txnTimeZone", Some(format_offset(t.zone)));
    put("orderAmount", Some(t.amount.to_major_string()));
    put("orderCurrency", Some(t.amount.currency().code().to_owned()));
    put("txnAmount", None);
    put("txnCurrency", None);
    put("status", Some(t.status.to_owned()));
    put("reason", reason_text(t));
    put("redirectUrl", t.redirect_url.clone());
    put("contractId", None);
    put("tokenId", None);
    put("eci", t.eci.map(str::to_owned));
    put("periodValue", None);
    put("codeForm", None);
    put("presentContext", None);
    put("actionType", t.action_type.map(str::to_owned));
    let sign = notification_sign(&fields, &st.secret);
    let mut m: Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| (k, text_or_null(v)))
        .collect();
    m.insert("sign".into(), Value::String(sign));
    Value::Object(m)
}

/// One item of a query's `content`.
fn list_item(t: &Txn, st: &SimState) -> Value {
    json!({
        "transactionId": t.id,
        "merchantTxnId": t.merchant_txn_id,
        "txnTime": format_time(t.created, t.zone),
        "originTransactionId": t.origin,
        "productType": "CARD",
        "subProductType": "DIRECT",
        "txnType": t.kind,
        "status": t.status,
        "reason": reason_text(t),
        "paymentMethod": "VISA",
        "walletTypeName": null,
        "orderAmount": t.amount.to_major_string(),
        "orderCurrency": t.amount.currency().code(),
        "txnAmount": t.amount.to_major_string(),
        "txnCurrency": t.amount.currency().code(),
        "settleRate": "1",
        "arn": null,
        "appId": st.app_id,
        "website": null,
        "cardBinCountry": "US",
        "cardNumber": t.card_masked,
        "userPaymentStatus": null,
        "holderName": t.holder_name,
        "eci": t.eci,
    })
}

async fn do_transaction(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    answer(
        sim.accept(&headers, &body)
            .and_then(|f| sim.authorize(&f, host.as_deref())),
    )
}

async fn auth_payment(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    answer(
        sim.accept(&headers, &body)
            .and_then(|f| sim.auth_payment(&f)),
    )
}

async fn online_refund(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    answer(sim.accept(&headers, &body).and_then(|f| sim.refund(&f)))
}

async fn list(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    answer(sim.accept(&headers, &body).and_then(|f| sim.list(&f)))
}

/// The payer's 3-D Secure page: a button that completes the challenge.
async fn three_ds_page(Path(id): Path<String>) -> Response {
    let id: String = id.chars().filter(char::is_ascii_digit).collect();
    let page = format!(
        "<!DOCTYPE html><html><body><h1>Onerway simulator: 3-D Secure</h1>\
         <form method=\"post\" action=\"/sim/3ds/{id}\"><button>Complete authentication</button></form>\
         </body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html")], page).into_response()
}

/// Completes the challenge and sends the payer back to the merchant's `returnUrl`.
async fn three_ds_complete(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    if !sim.complete_three_ds(&id) {
        return (
            StatusCode::NOT_FOUND,
            "no authentication waiting for this transaction",
        )
            .into_response();
    }
    let st = sim.lock();
    match st.txns.get(&id).and_then(|t| {
        t.return_url
            .as_ref()
            .map(|u| (u.clone(), t.merchant_txn_id.clone()))
    }) {
        Some((url, merchant_txn_id)) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            let location =
                format!("{url}{sep}transactionId={id}&merchantTxnId={merchant_txn_id}&status=S");
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        None => (StatusCode::OK, "authenticated").into_response(),
    }
}
