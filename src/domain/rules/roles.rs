//! `[roles]`: named groups of approvers, so that a rule says `role:finance` and a change of
//! staff is one edit in one place.

use std::collections::BTreeMap;

use toml::Spanned;

use super::{file::RawRole, report::Report};

/// Most characters in a role name; enough for `regional_sales_director_east`.
pub const MAX_ROLE_CHARS: usize = 32;

/// Most characters in a user id: WeCom's limit for a `userid`, which DingTalk's fit within.
pub const MAX_USER_ID_CHARS: usize = 64;

/// Role name → its members, each once, in the order written.
pub(super) type Roles = BTreeMap<String, Vec<String>>;

/// Whether `text` can be a WeCom or DingTalk user id: 1 to [`MAX_USER_ID_CHARS`] ASCII
/// letters, digits, `.`, `_`, `-` or `@` (what WeCom allows; DingTalk's are digits and
/// letters).
pub(super) fn is_user_id(text: &str) -> bool {
    (1..=MAX_USER_ID_CHARS).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

/// The reason shown for a text that is not a user id.
pub(super) const USER_ID_RULE: &str = "a user id is 1 to 64 letters, digits, `.`, `_`, `-` or `@`";

/// `role` when `[roles]` defines it, else the reason, naming the roles there are.
pub(super) fn defined_role(role: &str, roles: &Roles) -> Result<String, String> {
    if roles.contains_key(role) {
        return Ok(role.to_string());
    }
    if roles.is_empty() {
        return Err(format!(
            "unknown role `{role}`; no roles are defined: add it under [roles]"
        ));
    }
    let known = roles.keys().map(String::as_str).collect::<Vec<_>>();
    Err(format!(
        "unknown role `{role}`; the roles in [roles] are: {}",
        known.join(", ")
    ))
}

fn is_role_name(text: &str) -> bool {
    (1..=MAX_ROLE_CHARS).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks every role. Every role written is returned, even one with problems, so that rules
/// naming it are not also told the role does not exist.
pub(super) fn compile(raw: Vec<RawRole>, report: &mut Report<'_>) -> Roles {
    let mut roles = Roles::new();
    for RawRole { name, members } in raw {
        let name_span = name.span();
        let name = name.into_inner();
        if !is_role_name(&name) {
            let reason =
                format!("role `{name}`: a role name is 1 to {MAX_ROLE_CHARS} of a-z, 0-9 and `_`");
            report.add(name_span, None, reason);
        }
        let members = compile_members(&name, members, report);
        roles.insert(name, members);
    }
    roles
}

fn compile_members(
    role: &str,
    members: Spanned<Vec<Spanned<String>>>,
    report: &mut Report<'_>,
) -> Vec<String> {
    if members.get_ref().is_empty() {
        let reason = format!("role `{role}` lists nobody; list at least one user id");
        report.add(members.span(), None, reason);
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::with_capacity(members.get_ref().len());
    for member in members.into_inner() {
        if !is_user_id(member.get_ref()) {
            let reason = format!(
                "role `{role}`: \"{}\" is not a user id; {USER_ID_RULE}",
                member.get_ref()
            );
            report.add(member.span(), None, reason);
        } else if !out.contains(member.get_ref()) {
            out.push(member.into_inner());
        }
    }
    out
}
