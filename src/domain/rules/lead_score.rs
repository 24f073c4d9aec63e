//! `[lead_score]`: how many points each kind of event earns a lead or a customer, how fast
//! points fade, and the score at which they are handed to sales. A file without the section
//! scores with the defaults, so registrations are scored from the first day.

use toml::Spanned;

use super::{
    file::{RawLeadScore, RawPoints},
    report::Report,
};

/// Days after which a point counts half, unless the file says otherwise: two weeks, about
/// how long interest from one campaign lasts.
pub const DEFAULT_HALF_LIFE_DAYS: f64 = 14.0;

/// Score whose upward crossing hands the lead to sales, unless the file says otherwise.
pub const DEFAULT_THRESHOLD: f64 = 50.0;

/// The scoring settings of the rules file, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadScore {
    half_life_days: f64,
    threshold: f64,
    points: Points,
}

/// What each kind of event earns. Never negative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Points {
    /// A first click on a tracked link.
    pub click: f64,
    /// Every later click on it.
    pub repeat_click: f64,
    /// A sign-up through a form.
    pub registration: f64,
    /// Joining a customer group.
    pub group_join: f64,
    /// A reply in a chat.
    pub reply: f64,
}

impl Default for Points {
    fn default() -> Self {
        Self {
            click: 2.0,
            repeat_click: 1.0,
            registration: 20.0,
            group_join: 5.0,
            reply: 3.0,
        }
    }
}

impl Default for LeadScore {
    fn default() -> Self {
        Self {
            half_life_days: DEFAULT_HALF_LIFE_DAYS,
            threshold: DEFAULT_THRESHOLD,
            points: Points::default(),
        }
    }
}

impl LeadScore {
    /// Days after which an event's points count half; more than 0.
    pub fn half_life_days(&self) -> f64 {
        self.half_life_days
    }

    /// Crossing this score upwards qualifies the lead; 0 or more.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    pub fn points(&self) -> &Points {
        &self.points
    }
}

/// Checks `[lead_score]`, reporting every bad value; a bad value keeps its default so that
/// the other problems are still found.
pub(super) fn compile(raw: Option<RawLeadScore>, report: &mut Report<'_>) -> LeadScore {
    let mut score = LeadScore::default();
    let Some(raw) = raw else {
        return score;
    };
    if let Some(days) = raw.half_life_days {
        let span = days.span();
        match *days.get_ref() {
            d if d.is_finite() && d > 0.0 => score.half_life_days = d,
            d => report.add(
                span,
                None,
                format!("lead_score: `half_life_days` must be more than 0, not {d}"),
            ),
        }
    }
    set(&mut score.threshold, raw.threshold, "threshold", report);
    if let Some(RawPoints {
        click,
        repeat_click,
        registration,
        group_join,
        reply,
    }) = raw.points
    {
        let p = &mut score.points;
        set(&mut p.click, click, "points.click", report);
        set(
            &mut p.repeat_click,
            repeat_click,
            "points.repeat_click",
            report,
        );
        set(
            &mut p.registration,
            registration,
            "points.registration",
            report,
        );
        set(&mut p.group_join, group_join, "points.group_join", report);
        set(&mut p.reply, reply, "points.reply", report);
    }
    score
}

/// Sets `target` to a given value of 0 or more, or reports it.
fn set(target: &mut f64, value: Option<Spanned<f64>>, key: &str, report: &mut Report<'_>) {
    let Some(value) = value else {
        return;
    };
    match *value.get_ref() {
        v if v.is_finite() && v >= 0.0 => *target = v,
        v => report.add(
            value.span(),
            None,
            format!("lead_score: `{key}` must be a number of 0 or more, not {v}"),
        ),
    }
}
