//! Which member of a pool gets a lead. Both strategies first lock the pool's `pool_cursor`
//! row, so that the assignments of one pool happen one after the other across every instance:
//! round robin then reads and advances a position no one else holds, and least loaded counts
//! tasks that include those of the assignment just before.

use sea_orm::{ConnectionTrait, DbErr};

use crate::{
    domain::{
        rules::{Pool, Strategy},
        task::store as tasks,
    },
    pipeline::queue::stmt,
};

/// The member of `pool` (of `tenant`) who gets the next lead, skipping `exclude` (the reps
/// already offered this lead); `None` when every member is excluded. Run it in the
/// assignment's transaction: the position it advances is kept only if the assignment commits.
pub async fn pick(
    db: &impl ConnectionTrait,
    tenant: &str,
    pool: &Pool,
    exclude: &[String],
) -> Result<Option<String>, DbErr> {
    let candidates: Vec<&String> = pool
        .members
        .iter()
        .filter(|member| !exclude.contains(member))
        .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let position = lock_cursor(db, tenant, &pool.name).await?;
    match pool.strategy {
        Strategy::RoundRobin => {
            let (taken, member) = round_robin(&pool.members, position, exclude)
                .expect("a candidate is left, so round robin finds one");
            advance(db, tenant, &pool.name, taken + 1).await?;
            Ok(Some(member.clone()))
        }
        Strategy::LeastLoaded => {
            let names: Vec<String> = candidates.iter().map(|c| (*c).clone()).collect();
            let counts = tasks::open_counts(db, tenant, &names).await?;
            // `min_by_key` keeps the first of equal keys: ties go to the member written first.
            let least = candidates
                .into_iter()
                .min_by_key(|member| counts.get(*member).copied().unwrap_or(0))
                .expect("candidates is not empty");
            Ok(Some(least.clone()))
        }
    }
}

/// The first member at or after `position` (counting round the list) not in `exclude`, and the
/// position it was taken at.
fn round_robin<'a>(
    members: &'a [String],
    position: i64,
    exclude: &[String],
) -> Option<(i64, &'a String)> {
    let len = i64::try_from(members.len()).ok().filter(|&n| n > 0)?;
    (0..len)
        .map(|step| position + step)
        .map(|at| (at, &members[at.rem_euclid(len) as usize]))
        .find(|(_, member)| !exclude.contains(member))
}

/// The pool's position, its row locked until the transaction ends (made at 0 the first time).
async fn lock_cursor(db: &impl ConnectionTrait, tenant: &str, pool: &str) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO pool_cursor (tenant, pool, next) VALUES ($1, $2, 0) \
             ON CONFLICT (tenant, pool) DO UPDATE SET next = pool_cursor.next RETURNING next",
            [tenant.into(), pool.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("pool_cursor {tenant}/{pool}")))?;
    row.try_get("", "next")
}

async fn advance(
    db: &impl ConnectionTrait,
    tenant: &str,
    pool: &str,
    next: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE pool_cursor SET next = $3 WHERE tenant = $1 AND pool = $2",
        [tenant.into(), pool.into(), next.into()],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> Vec<String> {
        ["a", "b", "c"].map(String::from).to_vec()
    }

    #[test]
    fn round_robin_takes_each_member_in_turn() {
        let m = members();
        let taken: Vec<_> = (0..7)
            .map(|p| round_robin(&m, p, &[]).unwrap().1.as_str())
            .collect();
        assert_eq!(taken, ["a", "b", "c", "a", "b", "c", "a"]);
    }

    #[test]
    fn round_robin_skips_the_reps_already_tried() {
        let m = members();
        let tried = vec!["b".to_owned()];
        assert_eq!(round_robin(&m, 1, &tried), Some((2, &m[2])));
        assert_eq!(round_robin(&m, 4, &tried), Some((5, &m[2])));
        let all = members();
        assert_eq!(round_robin(&m, 0, &all), None);
        assert_eq!(round_robin(&[], 0, &[]), None);
    }
}
