//! Where a click goes after it is recorded: straight to the target today; for links with
//! `identify = true`, later, through WeCom's OAuth first (wecom.md §7), to learn which member
//! or customer clicked.
//!
//! That step belongs in [`next_step`]: a WeCom or WeChat visitor of an identify link would be
//! sent to `open.weixin.qq.com/connect/oauth2/authorize` with our landing URL, the landing
//! handler would exchange the code with `auth/getuserinfo`, fill the click's `member_userid` or
//! `external_userid`, and only then redirect to the target. Until it is built, identify links
//! redirect like every other link and their clicks stay anonymous.

use crate::domain::link::{AgentClass, Link};

/// What the visitor's browser is told to open next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// The link's target.
    Target(String),
}

/// The step after a click on `link` by a client of class `agent`.
pub fn next_step(link: &Link, _agent: AgentClass) -> NextStep {
    NextStep::Target(link.target_url.clone())
}
