//! Who a user is, as their platform's directory says: the name cards show for the requester,
//! and the manager a level "the requester's manager" (or an escalation) goes to.

use super::{Approvals, RequestError};
use crate::platform::{dingtalk, wecom};

/// A user as the directory knows them.
#[derive(Debug, Clone, Default)]
pub struct Person {
    pub name: Option<String>,
    pub manager: Option<String>,
}

impl Approvals {
    /// Whether `tenant` has an app on `platform` to send approval cards through.
    pub(super) fn has_app(&self, platform: &str, tenant: &str) -> bool {
        match platform {
            wecom::PLATFORM => self.wecom.get(tenant).is_some(),
            dingtalk::PLATFORM => self.dingtalk.get(tenant).is_some(),
            _ => false,
        }
    }

    /// `userid` of `tenant` on `platform`. A user the app cannot see is an empty [`Person`]
    /// (the approval goes on, naming them by id); a platform that is busy or down is an error
    /// worth retrying. A manager configured for the user (WeCom `managers`) wins over the
    /// directory's.
    pub(crate) async fn person(
        &self,
        platform: &str,
        tenant: &str,
        userid: &str,
    ) -> Result<Person, RequestError> {
        let looked_up = match platform {
            wecom::PLATFORM => {
                let Some(app) = self.wecom.get(tenant) else {
                    return Ok(Person::default());
                };
                let configured = app.managers.get(userid).cloned();
                match app.client.get_user(userid).await {
                    Ok(user) => Ok(Person {
                        name: user.name,
                        manager: configured.or_else(|| user.direct_leader.first().cloned()),
                    }),
                    Err(err) if err.retryable() => Err(err.to_string()),
                    Err(err) => {
                        tracing::warn!(userid, error = %err, "cannot read the user from WeCom");
                        Ok(Person {
                            name: None,
                            manager: configured,
                        })
                    }
                }
            }
            dingtalk::PLATFORM => {
                let Some(app) = self.dingtalk.get(tenant) else {
                    return Ok(Person::default());
                };
                match app.client.get_user(userid).await {
                    Ok(user) => Ok(Person {
                        name: Some(user.name),
                        manager: user.manager_userid.filter(|m| !m.is_empty()),
                    }),
                    Err(err) if err.retryable() => Err(err.to_string()),
                    Err(err) => {
                        tracing::warn!(userid, error = %err, "cannot read the user from DingTalk");
                        Ok(Person::default())
                    }
                }
            }
            _ => Ok(Person::default()),
        };
        looked_up.map_err(RequestError::Platform)
    }
}
