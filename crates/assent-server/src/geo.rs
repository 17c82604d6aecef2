//! Countries from an operator-provided MaxMind-format database (GeoLite2 / GeoIP2 Country or
//! City, or any file of that format with `country.iso_code`).
//!
//! The lookup runs on the request's full address, before the project's IP policy truncates
//! or drops it, and only the country is kept: the address itself never goes further than
//! the policy allows. Without a configured file there is no lookup and no country.

use std::net::IpAddr;
use std::path::Path;

use assent_core::enrich::Country;
use maxminddb::{geoip2, Reader};

/// An open country database, read whole into memory.
pub struct CountryDatabase {
    reader: Reader<Vec<u8>>,
}

impl CountryDatabase {
    /// Opens a `.mmdb` file; the error says what is wrong with it.
    pub fn open(path: &Path) -> Result<CountryDatabase, String> {
        let reader = Reader::open_readfile(path)
            .map_err(|e| format!("cannot read the country database {}: {e}", path.display()))?;
        Ok(CountryDatabase { reader })
    }

    /// The country of an address, when the database knows it.
    pub fn country(&self, ip: IpAddr) -> Option<Country> {
        let found = self.reader.lookup(ip.to_canonical()).ok()?;
        let record: geoip2::Country = found.decode().ok()??;
        record
            .country
            .iso_code
            .or(record.registered_country.iso_code)
            .and_then(Country::parse)
    }
}

impl std::fmt::Debug for CountryDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CountryDatabase({})",
            self.reader.metadata().database_type
        )
    }
}
