//! An in-memory reference provider that claims every capability and passes the whole
//! conformance suite: the executable specification the real providers are held to.
//!
//! Its "server side" is a map of holds behind a mutex; it counts requests and honours the
//! [`FaultPlan`](preauth_core::sim::FaultPlan) of its [`SimControl`] the way an HTTP simulator
//! does (a fault that hits after the effect loses the answer: [`Error::OutcomeUnknown`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use preauth_core::sim::{Fault, SimControl};
use preauth_core::webhook::{hmac_sha256_hex, signature_matches};
use preauth_core::{
    AuthorizeRequest, CancelRequest, Capabilities, CaptureRequest, CardSummary, Clock,
    DeclineReason, DecrementRequest, Error, ExposeSecret, Hold, HoldRef, HoldStatus, KeyGenerator,
    Money, NextAction, Notification, NotificationKind, Operation, PaymentMethod, PreauthProvider,
    ProviderDetails, Refund, RefundRequest, RefundStatus, Result, SequentialKeys, WebhookAck,
    WebhookRejection, WebhookRequest, state,
};

use crate::harness::{Delivery, Harness, cards};

/// The provider's name.
pub const NAME: &str = "reference";
const SECRET: &str = "reference-webhook-secret";
const SIGNATURE_HEADER: &str = "x-reference-signature";

/// Everything claimed: partial and multiple captures, decrement, cancel of pending holds,
/// partial refunds, lookup by merchant reference, deduplicated authorizations, webhooks, 3-D
/// Secure, a 7-day validity.
pub const CAPABILITIES: Capabilities = Capabilities::none()
    .with_partial_capture(true)
    .with_multiple_captures(true)
    .with_decrement(true)
    .with_cancel_pending(true)
    .with_refund(true)
    .with_partial_refund(true)
    .with_lookup_by_merchant_reference(true)
    .with_authorize_idempotent(true)
    .with_webhook_verification(true)
    .with_three_ds(true)
    .with_hold_validity(Some(Duration::from_secs(7 * 24 * 3600)));

#[derive(Debug, Default)]
struct Server {
    holds: BTreeMap<String, Hold>,
    by_merchant: BTreeMap<String, String>,
    refunds: u64,
}

/// The in-memory reference provider.
#[derive(Debug, Clone)]
pub struct ReferenceProvider {
    server: Arc<Mutex<Server>>,
    control: SimControl,
    keys: Arc<dyn KeyGenerator>,
}

impl ReferenceProvider {
    /// A provider whose clock and faults are `control`'s.
    pub fn new(control: SimControl) -> Self {
        ReferenceProvider {
            server: Arc::default(),
            control,
            keys: Arc::new(SequentialKeys::new("ref-")),
        }
    }

    fn now(&self) -> time::OffsetDateTime {
        self.control.clock.now()
    }

    fn server(&self) -> std::sync::MutexGuard<'_, Server> {
        self.server
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One "request" to the fake server: counted, faults applied around `effect`.
    fn call<T>(
        &self,
        op: Operation,
        reference: &str,
        effect: impl FnOnce(&mut Server) -> Result<T>,
    ) -> Result<T> {
        self.control.record_request();
        let fault = self.control.faults.take(op.as_str());
        if let Some(f) = &fault
            && !f.takes_effect()
        {
            return Err(Error::Unavailable {
                provider: NAME,
                operation: op,
                reason: format!("injected {}", f.name()),
                source: None,
            });
        }
        let out = effect(&mut self.server());
        match fault {
            None | Some(Fault::DelayBeforeEffect(_)) | Some(Fault::BadSignature) => out,
            Some(f) if op.is_mutating() => Err(Error::OutcomeUnknown {
                provider: NAME,
                operation: op,
                reference: reference.to_owned(),
                reason: format!("injected {}", f.name()),
                source: None,
            }),
            Some(f) => Err(Error::protocol(NAME, op, format!("injected {}", f.name()))),
        }
    }

    fn expire(&self, hold: &mut Hold) {
        if hold.status == HoldStatus::Authorized && hold.is_expired_at(self.now()) {
            hold.status = HoldStatus::Expired;
            hold.raw_status = "expired".into();
        }
    }

    fn stored(server: &Server, reference: &str) -> Result<Hold> {
        server
            .holds
            .get(reference)
            .cloned()
            .ok_or_else(|| Error::NotFound {
                provider: NAME,
                reference: reference.to_owned(),
                details: Box::new(ProviderDetails::default()),
            })
    }

    /// Plays the payer through 3-D Secure for the hold.
    pub fn complete_three_ds(&self, provider_reference: &str) -> bool {
        let mut s = self.server();
        match s.holds.get_mut(provider_reference) {
            Some(h) if h.status == HoldStatus::RequiresAction => {
                h.status = HoldStatus::Authorized;
                h.raw_status = "authorized".into();
                h.next_action = None;
                true
            }
            _ => false,
        }
    }

    /// The signed notification for the hold's current state.
    pub fn notification_for(&self, provider_reference: &str) -> Option<Delivery> {
        let hold = self.server().holds.get(provider_reference).cloned()?;
        let body = serde_json::json!({
            "id": hold.provider_reference,
            "merchant_reference": hold.merchant_reference,
            "status": hold.status,
            "amount": hold.captured.to_major_string(),
            "currency": hold.captured.currency().code(),
        })
        .to_string();
        let key = if self.control.faults.take_bad_signature() {
            "wrong-key"
        } else {
            SECRET
        };
        let sig = hmac_sha256_hex(key.as_bytes(), body.as_bytes());
        Some(Delivery {
            headers: vec![(SIGNATURE_HEADER.to_owned(), sig)],
            body: body.into_bytes(),
        })
    }
}

fn rejected(op: Operation, msg: &str) -> Error {
    Error::rejected(
        NAME,
        op,
        ProviderDetails::new(Some("rejected".into()), Some(msg.into())),
    )
}

#[async_trait]
impl PreauthProvider for ReferenceProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    async fn authorize(&self, req: AuthorizeRequest) -> Result<Hold> {
        req.check_line_items()?;
        let key = req
            .idempotency_key
            .clone()
            .unwrap_or_else(|| self.keys.next_key());
        let now = self.now();
        let validity = CAPABILITIES.hold_validity.unwrap_or_default();
        let hold = self.call(Operation::Authorize, key.as_str(), |s| {
            if let Some(id) = s.by_merchant.get(key.as_str()).cloned() {
                return Self::stored(s, &id);
            }
            let id = format!("ref_{}", key.as_str());
            let (status, card) = match &req.payment_method {
                PaymentMethod::Card(c) => {
                    let number = c.number().expose_secret();
                    let status = match number {
                        cards::DECLINE => HoldStatus::Declined,
                        cards::THREE_DS => HoldStatus::RequiresAction,
                        _ => HoldStatus::Authorized,
                    };
                    (
                        status,
                        Some(CardSummary::new(
                            Some("VISA".into()),
                            Some(c.last4().to_owned()),
                        )),
                    )
                }
                PaymentMethod::SavedCard { .. } => (HoldStatus::Authorized, None),
                _ => {
                    return Err(Error::unsupported(
                        NAME,
                        Operation::Authorize,
                        "payment method",
                    ));
                }
            };
            let mut hold = Hold::new(NAME, &id, key.as_str(), status, status.as_str(), req.amount)
                .with_created_at(now)
                .with_expires_at(now + validity);
            hold.card = card;
            if status == HoldStatus::RequiresAction {
                hold.next_action = Some(NextAction::Redirect {
                    url: format!("https://reference.invalid/3ds/{id}"),
                });
            }
            if status == HoldStatus::Declined {
                hold.decline = Some(DeclineReason::new(
                    Some("05".into()),
                    Some("do not honour".into()),
                ));
            }
            s.holds.insert(id.clone(), hold.clone());
            s.by_merchant.insert(key.as_str().to_owned(), id);
            Ok(hold)
        })?;
        if hold.status == HoldStatus::Declined {
            return Err(Error::Declined {
                provider: NAME,
                details: Box::new(ProviderDetails::new(
                    Some("05".into()),
                    Some("do not honour".into()),
                )),
                hold: Some(Box::new(hold)),
            });
        }
        Ok(hold)
    }

    async fn capture(&self, req: CaptureRequest) -> Result<Hold> {
        let now = self.now();
        state::check_capture(NAME, &CAPABILITIES, &req.hold, req.amount.as_ref(), now)?;
        let id = req.hold.provider_reference.clone();
        self.call(Operation::Capture, &id, |s| {
            let mut hold = Self::stored(s, &id)?;
            self.expire(&mut hold);
            // The server enforces the same rules on its own state.
            state::check_capture(NAME, &CAPABILITIES, &hold, req.amount.as_ref(), now)
                .map_err(|e| rejected(Operation::Capture, &e.to_string()))?;
            let amount = match req.amount {
                Some(a) => a,
                None => hold
                    .capturable()
                    .map_err(|e| rejected(Operation::Capture, &e.to_string()))?,
            };
            hold.captured = hold
                .captured
                .checked_add(&amount)
                .map_err(|e| rejected(Operation::Capture, &e.to_string()))?;
            hold.capture_count += 1;
            hold.status = HoldStatus::Captured;
            hold.raw_status = "captured".into();
            s.holds.insert(id.clone(), hold.clone());
            Ok(hold)
        })
    }

    async fn cancel(&self, req: CancelRequest) -> Result<Hold> {
        let now = self.now();
        state::check_cancel(&CAPABILITIES, &req.hold, now)?;
        let id = req.hold.provider_reference.clone();
        self.call(Operation::Cancel, &id, |s| {
            let mut hold = Self::stored(s, &id)?;
            self.expire(&mut hold);
            state::check_cancel(&CAPABILITIES, &hold, now)
                .map_err(|e| rejected(Operation::Cancel, &e.to_string()))?;
            hold.status = HoldStatus::Cancelled;
            hold.raw_status = "cancelled".into();
            s.holds.insert(id.clone(), hold.clone());
            Ok(hold)
        })
    }

    async fn decrement(&self, req: DecrementRequest) -> Result<Hold> {
        let now = self.now();
        state::check_decrement(NAME, &CAPABILITIES, &req.hold, &req.by, now)?;
        let id = req.hold.provider_reference.clone();
        self.call(Operation::Decrement, &id, |s| {
            let mut hold = Self::stored(s, &id)?;
            self.expire(&mut hold);
            state::check_decrement(NAME, &CAPABILITIES, &hold, &req.by, now)
                .map_err(|e| rejected(Operation::Decrement, &e.to_string()))?;
            hold.authorized = hold
                .authorized
                .checked_sub(&req.by)
                .map_err(|e| rejected(Operation::Decrement, &e.to_string()))?;
            s.holds.insert(id.clone(), hold.clone());
            Ok(hold)
        })
    }

    async fn retrieve(&self, reference: &HoldRef) -> Result<Hold> {
        let shown = reference.display_reference().to_owned();
        self.call(Operation::Retrieve, &shown, |s| {
            let id = match (&reference.provider_reference, &reference.merchant_reference) {
                (Some(p), _) => p.clone(),
                (None, Some(m)) => {
                    s.by_merchant
                        .get(m)
                        .cloned()
                        .ok_or_else(|| Error::NotFound {
                            provider: NAME,
                            reference: m.clone(),
                            details: Box::default(),
                        })?
                }
                (None, None) => return Err(Error::invalid_request("a hold reference needs an id")),
            };
            let mut hold = Self::stored(s, &id)?;
            self.expire(&mut hold);
            s.holds.insert(id, hold.clone());
            Ok(hold)
        })
    }

    async fn refund(&self, req: RefundRequest) -> Result<Refund> {
        state::check_refund(NAME, &CAPABILITIES, &req.hold, req.amount.as_ref())?;
        let key = req
            .idempotency_key
            .clone()
            .unwrap_or_else(|| self.keys.next_key());
        let id = req.hold.provider_reference.clone();
        self.call(Operation::Refund, key.as_str(), |s| {
            let mut hold = Self::stored(s, &id)?;
            state::check_refund(NAME, &CAPABILITIES, &hold, req.amount.as_ref())
                .map_err(|e| rejected(Operation::Refund, &e.to_string()))?;
            let amount: Money = match req.amount {
                Some(a) => a,
                None => hold
                    .refundable()
                    .map_err(|e| rejected(Operation::Refund, &e.to_string()))?,
            };
            hold.refunded = hold
                .refunded
                .checked_add(&amount)
                .map_err(|e| rejected(Operation::Refund, &e.to_string()))?;
            if hold.refunded == hold.captured {
                hold.status = HoldStatus::Refunded;
                hold.raw_status = "refunded".into();
            }
            s.refunds += 1;
            let refund_id = format!("refund_{}", s.refunds);
            s.holds.insert(id.clone(), hold.clone());
            Ok(Refund::new(
                NAME,
                refund_id,
                key.as_str(),
                hold.reference(),
                amount,
                RefundStatus::Succeeded,
                "succeeded",
            ))
        })
    }

    fn verify_webhook(&self, req: &WebhookRequest<'_>) -> Result<Notification> {
        let sig = req
            .header(SIGNATURE_HEADER)
            .ok_or_else(|| Error::webhook(NAME, WebhookRejection::MissingSignature))?;
        if !signature_matches(&hmac_sha256_hex(SECRET.as_bytes(), req.body()), sig) {
            return Err(Error::webhook(NAME, WebhookRejection::BadSignature));
        }
        let v: serde_json::Value = serde_json::from_slice(req.body())
            .map_err(|_| Error::webhook(NAME, WebhookRejection::Malformed))?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        let (Some(id), Some(status)) = (field("id"), v.get("status")) else {
            return Err(Error::webhook(NAME, WebhookRejection::Malformed));
        };
        let status: HoldStatus = serde_json::from_value(status.clone())
            .map_err(|_| Error::webhook(NAME, WebhookRejection::Malformed))?;
        let mut hold = HoldRef::provider(&id);
        hold.merchant_reference = field("merchant_reference");
        let mut n = Notification::new(
            NAME,
            NotificationKind::Payment,
            hold,
            "hold.updated",
            format!("{id}:{status}"),
        );
        n.status = Some(status);
        n.raw_status = Some(status.as_str().to_owned());
        n.amount = match (field("amount"), field("currency")) {
            (Some(a), Some(c)) => preauth_core::Currency::from_code(&c)
                .and_then(|c| Money::parse_major(&a, c))
                .ok(),
            _ => None,
        };
        Ok(n)
    }

    fn webhook_ack(&self, _: &Notification) -> WebhookAck {
        WebhookAck::new(204, "text/plain", "")
    }
}

/// The [`Harness`] of the reference provider.
#[derive(Debug, Clone)]
pub struct ReferenceHarness {
    provider: ReferenceProvider,
    control: SimControl,
}

impl ReferenceHarness {
    /// A fresh reference provider with its own clock and faults.
    pub fn new() -> Self {
        let control = SimControl::default();
        ReferenceHarness {
            provider: ReferenceProvider::new(control.clone()),
            control,
        }
    }
}

impl Default for ReferenceHarness {
    fn default() -> Self {
        ReferenceHarness::new()
    }
}

#[async_trait]
impl Harness for ReferenceHarness {
    fn provider(&self) -> Arc<dyn PreauthProvider> {
        Arc::new(self.provider.clone())
    }

    fn control(&self) -> &SimControl {
        &self.control
    }

    async fn complete_three_ds(&self, hold: &Hold) {
        self.provider.complete_three_ds(&hold.provider_reference);
    }

    fn notification_for(&self, hold: &Hold) -> Option<Delivery> {
        self.provider.notification_for(&hold.provider_reference)
    }

    fn ledger(&self) -> Vec<crate::soak::LedgerEntry> {
        self.provider
            .server()
            .holds
            .values()
            .map(|h| crate::soak::LedgerEntry {
                merchant_reference: h.merchant_reference.clone(),
                provider_reference: h.provider_reference.clone(),
                status: h.status,
                captures: h.capture_count,
            })
            .collect()
    }
}
