//! Approvals: requests routed by the rules to ordered levels of approvers. `store` keeps them.

pub mod store;
