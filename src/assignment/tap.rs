//! A tap on a lead_assigned card (`lead:<id>:assignment:<id>`): Accept settles the offer and
//! closes the card; Reassign passes the lead on ([`Assigner::pass_on`]). Only the rep the card
//! was offered to can tap it; anyone else's tap is audited and changes nothing. A tap on an
//! offer already settled (answered, timed out, or a platform's repeat of the same tap) does
//! nothing.

use async_trait::async_trait;
use serde_json::json;

use super::{
    Assigner, PassedOn, action,
    cards::parse_offer_subject,
    store::{self, state},
};
use crate::{
    audit,
    cards::{
        store::SentCard,
        taps::{TapInput, TapTarget},
    },
    pipeline::{Effects, HandlerError},
};

/// The buttons of a lead_assigned card.
pub const ACCEPT: &str = "accept";
pub const REASSIGN: &str = "reassign";

#[async_trait]
impl TapTarget for Assigner {
    fn prefix(&self) -> &'static str {
        "lead:"
    }

    #[tracing::instrument(skip_all, fields(subject = %card.subject, tapper = %tap.tapper, button = %tap.button))]
    async fn tap(
        &self,
        effects: &Effects<'_>,
        tap: &TapInput,
        card: &SentCard,
    ) -> Result<(), HandlerError> {
        let Some((lead_id, assignment_id)) = parse_offer_subject(&card.subject) else {
            return Ok(());
        };
        let db = effects.db();
        let now = effects.now();
        let Some(lead) = store::lock_lead(db, lead_id).await? else {
            tracing::info!("tap on the card of a lead that is gone");
            return Ok(());
        };
        let Some(row) = store::get(db, assignment_id).await? else {
            return Ok(());
        };
        let tapper = tap.tapper.to_lowercase();
        let refuse = |reason: &str| {
            json!({
                "assignment_id": row.id, "tapper": tapper, "button": tap.button,
                "card": tap.track_id, "platform": tap.platform, "reason": reason,
            })
        };
        let lead_key = lead_id.to_string();
        if row.rep.to_lowercase() != tapper {
            tracing::info!("tap refused: not the rep the lead was offered to");
            let detail = refuse("the tapper is not the rep the lead was offered to");
            audit::record(
                db,
                now,
                &tapper,
                action::TAP_REFUSED,
                ("lead", &lead_key),
                &detail,
            )
            .await?;
            return Ok(());
        }
        if row.state != state::OFFERED {
            tracing::info!(state = %row.state, "tap on a settled assignment");
            return Ok(());
        }
        match tap.button.as_str() {
            ACCEPT => {
                if !store::settle(db, row.id, state::ACCEPTED, now).await? {
                    return Ok(());
                }
                self.cards()
                    .settle(
                        db,
                        &lead,
                        &row,
                        state::ACCEPTED,
                        &row.rep,
                        Some(effects.event_id()),
                        now,
                    )
                    .await?;
                let detail =
                    json!({ "assignment_id": row.id, "rep": row.rep, "card": tap.track_id });
                self.changed(db, &lead, &row.rep, action::ACCEPTED, &detail, now)
                    .await?;
                tracing::info!(lead_id, assignment_id, "lead accepted");
            }
            REASSIGN => {
                self.pass_on(
                    db,
                    &lead,
                    &row,
                    (PassedOn::Reassigned, &row.rep),
                    Some(effects.event_id()),
                    now,
                )
                .await?;
                tracing::info!(lead_id, assignment_id, "lead passed on by its rep");
            }
            other => {
                let detail = refuse(&format!("unknown button `{other}`"));
                audit::record(
                    db,
                    now,
                    &tapper,
                    action::TAP_REFUSED,
                    ("lead", &lead_key),
                    &detail,
                )
                .await?;
                return Ok(());
            }
        }
        effects.note_sent();
        Ok(())
    }
}
