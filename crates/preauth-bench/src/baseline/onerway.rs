//! Onerway by hand: top-level parameters sorted by name (nested objects as JSON strings),
//! `sign = hex(SHA-256(values ‖ secret))`, one JSON object per request; AUTH, then a full
//! CAPTURE; notifications verified the same way over every non-empty field but the
//! documented exclusions.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{OffsetDateTime, UtcOffset};

use super::{BResult, EventView, HoldView, JSON, Status, Text, WireRequest, major, parse_major};
use crate::fixture::Order;

/// The merchant account.
#[derive(Debug, Clone)]
pub struct OnerwayWire {
    /// Base URL.
    pub base_url: String,
    /// `merchantNo`.
    pub merchant_no: String,
    /// `appId`.
    pub app_id: String,
    /// The secret key appended to every signed string.
    pub secret_key: String,
}

/// Notification fields that are not signed (docs `notify.md`).
const NOTIFICATION_EXCLUDED: [&str; 9] = [
    "originTransactionId",
    "originMerchantTxnId",
    "customsDeclarationAmount",
    "customsDeclarationCurrency",
    "paymentMethod",
    "walletTypeName",
    "periodValue",
    "tokenExpireTime",
    "sign",
];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Product<'a> {
    name: &'a str,
    price: &'a str,
    num: &'a str,
    currency: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderMsg<'a> {
    return_url: &'a str,
    app_id: &'a str,
    notify_url: &'a str,
    products: &'a str,
    transaction_ip: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CardInfo<'a> {
    card_number: &'a str,
    cvv: &'a str,
    month: &'a str,
    year: &'a str,
    holder_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Information<'a> {
    country: &'a str,
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    phone: &'a str,
    address: &'a str,
    city: &'a str,
    province: &'a str,
    postal_code: &'a str,
    street: &'a str,
    number: &'a str,
}

/// Sorted parameters with `sign` put in its sorted place.
struct SignedBody<'a> {
    params: &'a [(&'a str, &'a str)],
    sign: &'a str,
}

impl Serialize for SignedBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.params.len() + 1))?;
        let mut signed = false;
        for (k, v) in self.params {
            if !signed && *k > "sign" {
                m.serialize_entry("sign", self.sign)?;
                signed = true;
            }
            m.serialize_entry(k, v)?;
        }
        if !signed {
            m.serialize_entry("sign", self.sign)?;
        }
        m.end()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    #[serde(borrow, default)]
    resp_code: Option<Text<'a>>,
    #[serde(borrow, default)]
    data: Option<Txn<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Txn<'a> {
    #[serde(borrow, default)]
    transaction_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    status: Option<Text<'a>>,
    #[serde(borrow, default)]
    order_amount: Option<Text<'a>>,
    #[serde(borrow, default)]
    order_currency: Option<Text<'a>>,
}

fn status_of(letter: &str) -> BResult<Status> {
    Ok(match letter {
        "S" => Status::Authorized,
        "F" => Status::Declined,
        "P" | "I" => Status::Pending,
        "R" | "U" => Status::RequiresAction,
        "N" => Status::Cancelled,
        _ => return Err("unknown status"),
    })
}

/// `yyyy-MM-dd HH:mm:ss` in UTC, the merchant's zone.
fn txn_time(now: OffsetDateTime) -> String {
    let t = now.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The text of a top-level JSON value as Onerway signs it: strings unescaped, other values
/// by their JSON text, `null` as absent.
fn raw_text(v: &RawValue) -> BResult<Option<Cow<'_, str>>> {
    let s = v.get();
    if s == "null" {
        Ok(None)
    } else if let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        if inner.contains('\\') {
            serde_json::from_str::<String>(s)
                .map(|t| Some(Cow::Owned(t)))
                .map_err(|_| "malformed string")
        } else {
            Ok(Some(Cow::Borrowed(inner)))
        }
    } else {
        Ok(Some(Cow::Borrowed(s)))
    }
}

impl OnerwayWire {
    /// The merchant the simulator at `base_url` accepts.
    pub fn for_simulator(base_url: &str) -> Self {
        use preauth::onerway::simulator::{SIM_APP_ID, SIM_MERCHANT_NO, SIM_SECRET_KEY};
        OnerwayWire {
            base_url: base_url.to_owned(),
            merchant_no: SIM_MERCHANT_NO.to_owned(),
            app_id: SIM_APP_ID.to_owned(),
            secret_key: SIM_SECRET_KEY.to_owned(),
        }
    }

    /// Signs `params` (sorted by name, none empty) and builds the `POST`.
    fn signed_post(&self, path: &str, params: &[(&str, &str)]) -> BResult<WireRequest> {
        let mut h = Sha256::new();
        for (_, v) in params {
            h.update(v.as_bytes());
        }
        h.update(self.secret_key.as_bytes());
        let sign = hex::encode(h.finalize());
        let body = serde_json::to_vec(&SignedBody {
            params,
            sign: &sign,
        })
        .map_err(|_| "cannot serialize the request")?;
        Ok(WireRequest::post(format!("{}{path}", self.base_url)).body(JSON, body))
    }

    /// The direct card AUTH (`/v1/txn/doTransaction`) at `now`.
    ///
    /// # Errors
    /// When a nested object cannot be serialized.
    pub fn authorize(&self, o: &Order, now: OffsetDateTime) -> BResult<WireRequest> {
        let ser = |_: serde_json::Error| "cannot serialize a nested object";
        let amount = major(o.amount_minor);
        let products = serde_json::to_string(&[Product {
            name: o.description,
            price: &amount,
            num: "1",
            currency: o.currency,
        }])
        .map_err(ser)?;
        let order_msg = serde_json::to_string(&OrderMsg {
            return_url: o.return_url,
            app_id: &self.app_id,
            notify_url: o.notify_url,
            products: &products,
            transaction_ip: o.customer_ip,
        })
        .map_err(ser)?;
        let month = format!("{:02}", o.exp_month);
        let year = o.exp_year.to_string();
        let card = serde_json::to_string(&CardInfo {
            card_number: o.card_number,
            cvv: o.card_cvc,
            month: &month,
            year: &year,
            holder_name: o.holder_name,
        })
        .map_err(ser)?;
        let address = format!("{} {}", o.street, o.number);
        // Billing and shipping are the same address.
        let info = serde_json::to_string(&Information {
            country: o.country,
            email: o.email,
            first_name: o.first_name,
            last_name: o.last_name,
            phone: o.phone,
            address: &address,
            city: o.city,
            province: o.state,
            postal_code: o.postal_code,
            street: o.street,
            number: o.number,
        })
        .map_err(ser)?;
        let time = txn_time(now);
        // Sorted by name, the order Onerway signs them in.
        let params = [
            ("billingInformation", info.as_str()),
            ("cardInfo", &card),
            ("merchantNo", &self.merchant_no),
            ("merchantTxnId", &o.key),
            ("merchantTxnTime", &time),
            ("merchantTxnTimeZone", "+00:00"),
            ("orderAmount", &amount),
            ("orderCurrency", o.currency),
            ("productType", "CARD"),
            ("shippingInformation", &info),
            ("subProductType", "DIRECT"),
            ("txnOrderMsg", &order_msg),
            ("txnType", "AUTH"),
        ];
        self.signed_post("/v1/txn/doTransaction", &params)
    }

    /// The full CAPTURE (`/v1/txn/authPayment`) of the AUTH `transaction_id`.
    ///
    /// # Errors
    /// When the body cannot be serialized.
    pub fn capture(&self, capture_key: &str, transaction_id: &str) -> BResult<WireRequest> {
        let params = [
            ("merchantNo", self.merchant_no.as_str()),
            ("merchantTxnId", capture_key),
            ("originTransactionId", transaction_id),
            ("txnType", "CAPTURE"),
        ];
        self.signed_post("/v1/txn/authPayment", &params)
    }

    fn txn<'a>(status: u16, body: &'a [u8]) -> BResult<Txn<'a>> {
        if !(200..300).contains(&status) {
            return Err("http status is not 2xx");
        }
        let env: Envelope<'a> = serde_json::from_slice(body).map_err(|_| "unreadable answer")?;
        if env.resp_code.as_ref().map(Text::as_str) != Some("20000") {
            return Err("refused");
        }
        env.data.ok_or("no data")
    }

    fn amount(txn: &Txn<'_>, currency: &str) -> BResult<i64> {
        if txn.order_currency.as_ref().map(Text::as_str) != Some(currency) {
            return Err("unexpected currency");
        }
        txn.order_amount
            .as_ref()
            .and_then(|a| parse_major(a.as_str()))
            .ok_or("bad orderAmount")
    }

    /// The hold an AUTH answer describes.
    ///
    /// # Errors
    /// A refusal, a decline, an unreadable answer, an unknown status.
    pub fn parse_authorize(&self, status: u16, body: &[u8], o: &Order) -> BResult<HoldView> {
        let txn = Self::txn(status, body)?;
        let status = status_of(txn.status.as_ref().ok_or("no status")?.as_str())?;
        if status == Status::Declined {
            return Err("declined");
        }
        let reference = txn.transaction_id.as_ref().ok_or("no transactionId")?;
        Ok(HoldView {
            reference: reference.as_str().to_owned(),
            status,
            authorized_minor: Self::amount(&txn, o.currency)?,
            captured_minor: 0,
        })
    }

    /// The hold after a CAPTURE answer.
    ///
    /// # Errors
    /// A refusal, an unreadable answer, a capture that did not succeed.
    pub fn parse_capture(&self, status: u16, body: &[u8], hold: &HoldView) -> BResult<HoldView> {
        let txn = Self::txn(status, body)?;
        if txn.status.as_ref().map(Text::as_str) != Some("S") {
            return Err("capture not successful");
        }
        txn.transaction_id.as_ref().ok_or("no transactionId")?;
        let currency = txn.order_currency.as_ref().ok_or("no currency")?;
        let captured = Self::amount(&txn, currency.as_str())?;
        if captured > hold.authorized_minor {
            return Err("captured more than held");
        }
        Ok(HoldView {
            reference: hold.reference.clone(),
            status: Status::Captured,
            authorized_minor: hold.authorized_minor,
            captured_minor: captured,
        })
    }

    /// Verifies a notification body and reads it.
    ///
    /// # Errors
    /// A missing or wrong `sign`; an unreadable body; an unknown status.
    pub fn verify_webhook(&self, body: &[u8]) -> BResult<EventView> {
        let fields: BTreeMap<&str, &RawValue> =
            serde_json::from_slice(body).map_err(|_| "not a JSON object")?;
        let received = fields
            .get("sign")
            .map(|v| raw_text(v))
            .transpose()?
            .flatten()
            .ok_or("no sign")?;
        let mut h = Sha256::new();
        for (k, v) in &fields {
            if NOTIFICATION_EXCLUDED.contains(k) {
                continue;
            }
            if let Some(t) = raw_text(v)?
                && !t.is_empty()
            {
                h.update(t.as_bytes());
            }
        }
        h.update(self.secret_key.as_bytes());
        let expected = h.finalize();
        let received = hex::decode(received.as_bytes()).map_err(|_| "malformed sign")?;
        if !bool::from(expected.as_slice().ct_eq(&received)) {
            return Err("bad signature");
        }
        let get = |k: &str| {
            fields
                .get(k)
                .and_then(|v| raw_text(v).ok().flatten())
                .filter(|v| !v.is_empty())
        };
        let letter = status_of(&get("status").ok_or("no status")?)?;
        let (reference, status) = match get("txnType").as_deref() {
            Some("CAPTURE") => (
                get("originTransactionId"),
                match letter {
                    Status::Authorized => Some(Status::Captured),
                    Status::Declined | Status::Cancelled => Some(Status::Authorized),
                    _ => None,
                },
            ),
            Some("VOID") => (
                get("originTransactionId"),
                match letter {
                    Status::Authorized => Some(Status::Cancelled),
                    Status::Declined | Status::Cancelled => Some(Status::Authorized),
                    _ => None,
                },
            ),
            _ => (get("transactionId"), Some(letter)),
        };
        let amount = match (get("orderAmount"), get("orderCurrency")) {
            (Some(a), Some(_)) => Some(parse_major(&a).ok_or("bad orderAmount")?),
            _ => None,
        };
        Ok(EventView {
            reference: reference.ok_or("no transactionId")?.into_owned(),
            status,
            amount_minor: amount,
        })
    }
}
