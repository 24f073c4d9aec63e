//! A throwaway PostgreSQL database for a benchmark, on the server `SALESBOT_TEST_PG_URL` names.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use tokio::runtime::Runtime;

/// A database created for one benchmark run; [`BenchDatabase::drop_on`] removes it.
pub struct BenchDatabase {
    server: DatabaseConnection,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl BenchDatabase {
    /// Creates `<prefix>_<pid>` on the server, or `None` (saying so) when no server is set.
    pub fn create(rt: &Runtime, prefix: &str) -> Option<Self> {
        let Some(base) = std::env::var("SALESBOT_TEST_PG_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            println!("postgres: skipped, SALESBOT_TEST_PG_URL is not set");
            return None;
        };
        let name = format!("{prefix}_{}", std::process::id());
        let server = rt.block_on(Database::connect(&base)).unwrap();
        rt.block_on(server.execute_unprepared(&format!("CREATE DATABASE {name}")))
            .unwrap();
        let server_url = base
            .split('?')
            .next()
            .unwrap()
            .rsplit_once('/')
            .unwrap()
            .0
            .to_string();
        Some(Self {
            url: format!("{server_url}/{name}"),
            server,
            name,
        })
    }

    /// Closes `db` (the benchmark's connection to it) and drops the database.
    pub fn drop_on(self, rt: &Runtime, db: DatabaseConnection) {
        rt.block_on(db.close()).unwrap();
        rt.block_on(
            self.server
                .execute_unprepared(&format!("DROP DATABASE {} WITH (FORCE)", self.name)),
        )
        .unwrap();
    }
}
