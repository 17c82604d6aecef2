//! Writes a small MaxMind-format (`.mmdb`) country database for tests, from the format's
//! published specification (a binary search tree over address bits, a data section, and a
//! metadata map): the collector is tested against a file of the real format without any
//! downloaded GeoIP data.

/// `(network, prefix length, ISO country code)` for IPv4 networks.
pub fn country_database(networks: &[([u8; 4], u8, &str)]) -> Vec<u8> {
    #[derive(Clone, Copy)]
    enum Record {
        Node(usize),
        Empty,
        Data(usize),
    }
    let mut data = Vec::new();
    let mut nodes: Vec<[Record; 2]> = vec![[Record::Empty, Record::Empty]];
    for (net, prefix, code) in networks {
        let offset = data.len();
        map(&mut data, 1);
        string(&mut data, "country");
        map(&mut data, 1);
        string(&mut data, "iso_code");
        string(&mut data, code);
        let bits = u32::from_be_bytes(*net);
        let mut node = 0;
        for i in 0..*prefix {
            let bit = ((bits >> (31 - i)) & 1) as usize;
            if i + 1 == *prefix {
                nodes[node][bit] = Record::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Record::Node(next) => next,
                    _ => {
                        nodes.push([Record::Empty, Record::Empty]);
                        let next = nodes.len() - 1;
                        nodes[node][bit] = Record::Node(next);
                        next
                    }
                };
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for record in node {
            let value = match *record {
                Record::Node(i) => i,
                Record::Empty => count,
                Record::Data(offset) => count + 16 + offset,
            };
            out.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    map(&mut out, 9);
    string(&mut out, "node_count");
    unsigned(&mut out, 6, count as u64);
    string(&mut out, "record_size");
    unsigned(&mut out, 5, 24);
    string(&mut out, "ip_version");
    unsigned(&mut out, 5, 4);
    string(&mut out, "database_type");
    string(&mut out, "Assent-Test-Country");
    string(&mut out, "languages");
    out.extend_from_slice(&[1, 4]); // an array (extended type 11) of 1 element
    string(&mut out, "en");
    string(&mut out, "binary_format_major_version");
    unsigned(&mut out, 5, 2);
    string(&mut out, "binary_format_minor_version");
    unsigned(&mut out, 5, 0);
    string(&mut out, "build_epoch");
    out.extend_from_slice(&[8, 2]); // a uint64 (extended type 9) of 8 bytes
    out.extend_from_slice(&1_764_000_000u64.to_be_bytes());
    string(&mut out, "description");
    map(&mut out, 1);
    string(&mut out, "en");
    string(&mut out, "Countries for Assent's tests");
    out
}

fn map(out: &mut Vec<u8>, entries: u8) {
    out.push((7 << 5) | entries);
}

fn string(out: &mut Vec<u8>, s: &str) {
    assert!(s.len() < 29, "short strings only");
    out.push((2 << 5) | s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

/// `kind` 5 is uint16, 6 is uint32.
fn unsigned(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes: Vec<u8> = value
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    out.push((kind << 5) | bytes.len() as u8);
    out.extend_from_slice(&bytes);
}
