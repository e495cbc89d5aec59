//! Finding out what happened after an [`Error::OutcomeUnknown`]: query the provider before
//! anything else, so a capture is never sent twice and a hold is never lost.

use crate::capabilities::Operation;
use crate::error::{Error, Result};
use crate::hold::{Hold, HoldRef};
use crate::provider::PreauthProvider;

/// After an authorize whose outcome is unknown: look the hold up by the merchant reference
/// (the idempotency key the authorize carried).
///
/// - `Ok(Some(hold))`: the hold exists, in the state the provider reports.
/// - `Ok(None)`: the provider has no such hold, so the authorize never took effect; it may be
///   sent again with the same key.
///
/// # Errors
/// [`Error::Unsupported`] naming the reference when the provider cannot look holds up by the
/// merchant's reference (then only its notifications or its dashboard can tell); any error
/// of [`PreauthProvider::retrieve`].
pub async fn reconcile_authorize(
    provider: &dyn PreauthProvider,
    merchant_reference: &str,
) -> Result<Option<Hold>> {
    if !provider.capabilities().lookup_by_merchant_reference {
        return Err(Error::unsupported(
            provider.name(),
            Operation::Retrieve,
            format!(
                "holds cannot be looked up by merchant reference; the outcome of authorization {merchant_reference} \
                 can only be learned from the provider's notification or dashboard"
            ),
        ));
    }
    match provider
        .retrieve(&HoldRef::merchant(merchant_reference))
        .await
    {
        Ok(hold) => Ok(Some(hold)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// After a capture, cancel or decrement whose outcome is unknown: the hold's true state now.
/// Compare it with the hold you had to see whether the operation took effect (captured amount,
/// status, held amount).
///
/// # Errors
/// Any error of [`PreauthProvider::retrieve`].
pub async fn reconcile_hold(provider: &dyn PreauthProvider, hold: &Hold) -> Result<Hold> {
    provider.retrieve(&hold.reference()).await
}
