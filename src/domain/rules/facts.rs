//! What rules look at: for tagging, a customer and the rep who added them; for approval, the
//! request. Plain types, so that the rules know nothing of WeCom or DingTalk; the platform
//! layer fills them in.

use std::{cell::OnceCell, collections::BTreeMap};

/// The facts about one new customer relationship that tagging rules can test.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaggingFacts {
    /// The `state` of the channel QR code or link the customer came through; `None` for other
    /// channels.
    pub state: Option<String>,
    /// The rep's userid.
    pub rep: String,
    /// The rep's departments, each as its name or its id written as text; a rule's
    /// `rep_department` matches any of them exactly (the WeCom glue supplies department ids).
    pub rep_departments: Vec<String>,
    pub customer_type: CustomerType,
    /// The customer's display name (the WeChat nickname for WeChat users).
    pub name: String,
    /// The customer's company; only WeCom users have one.
    pub corp_name: Option<String>,
    /// The customer's job title; only WeCom users have one.
    pub position: Option<String>,
    /// How the customer was added, as the platform's numeric code (wecom.md §5.4 `add_way`).
    pub add_way: Option<i64>,
    pub gender: Gender,
}

/// Whether the customer is a personal WeChat user or another company's WeCom user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CustomerType {
    Wechat,
    Wecom,
    /// The platform did not say; no `customer_type` condition matches it.
    #[default]
    Unknown,
}

/// The customer's gender as the platform reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Gender {
    Male,
    Female,
    #[default]
    Unknown,
}

/// Facts as the conditions read them: the texts that `*_contains` conditions search are
/// lower-cased at most once per evaluation, and only if some rule asks.
pub(super) struct Subject<'a> {
    pub(super) facts: &'a TaggingFacts,
    name: OnceCell<String>,
    corp_name: OnceCell<Option<String>>,
    position: OnceCell<Option<String>>,
}

impl<'a> Subject<'a> {
    pub(super) fn new(facts: &'a TaggingFacts) -> Self {
        Self {
            facts,
            name: OnceCell::new(),
            corp_name: OnceCell::new(),
            position: OnceCell::new(),
        }
    }

    pub(super) fn name_lower(&self) -> &str {
        self.name.get_or_init(|| self.facts.name.to_lowercase())
    }

    pub(super) fn corp_name_lower(&self) -> Option<&str> {
        self.corp_name
            .get_or_init(|| self.facts.corp_name.as_deref().map(str::to_lowercase))
            .as_deref()
    }

    pub(super) fn position_lower(&self) -> Option<&str> {
        self.position
            .get_or_init(|| self.facts.position.as_deref().map(str::to_lowercase))
            .as_deref()
    }
}

/// The facts about one approval request that an approval rule's `when` can test. Each field is
/// the CEL variable of the same name (docs/rules.md, "Approval routing").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApprovalFacts {
    /// What is asked for: `"discount"`, `"contract"`, …
    pub kind: String,
    pub title: String,
    /// The requester's user id.
    pub requester: String,
    /// The amount at stake, in the tenant's currency; 0 when the request has none.
    pub amount: f64,
    /// The discount asked for, in percent (`15.0` is 15 %); 0 when the request has none.
    pub discount_pct: f64,
    pub tenant: String,
    /// `"wecom"` or `"dingtalk"`.
    pub platform: String,
    /// The request's free-form fields; `fields.region` in an expression.
    pub fields: BTreeMap<String, serde_json::Value>,
    /// What the request is about, such as `"customer"`, and its id.
    pub subject_type: String,
    pub subject_id: String,
}

impl ApprovalFacts {
    /// Why a request cannot be routed, for whoever sent it:
    /// `no approval rule matches kind=discount discount_pct=5 amount=20000`.
    pub fn no_match_reason(&self) -> String {
        format!(
            "no approval rule matches kind={} discount_pct={} amount={}",
            self.kind, self.discount_pct, self.amount
        )
    }
}

/// The facts about one lead that an assignment rule's `when` can test. Each field is the CEL
/// variable of the same name (docs/rules.md, "Lead assignment"); a value the lead lacks is
/// empty (`""`, `0.0`, no tags).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadFacts {
    pub name: String,
    pub company: String,
    /// As the CRM or form wrote it, such as `"华东"`.
    pub region: String,
    pub industry: String,
    /// Where the lead came from, such as `"registration:expo2026"` or `"crm"`.
    pub source: String,
    /// The lead score at the time of the assignment.
    pub score: f64,
    pub tags: Vec<String>,
    pub tenant: String,
    /// The lead's free-form fields; `fields.budget` in an expression.
    pub fields: BTreeMap<String, serde_json::Value>,
}
