//! How a replay chunk is compressed. Browsers compress with `CompressionStream`, which makes
//! gzip (RFC 1952) or zlib-wrapped deflate (RFC 1950); the collector stores the bytes as they
//! came and only inflates them to validate, to export and to play back.

use std::io::Read;

use flate2::read::{GzDecoder, ZlibDecoder};

/// The two formats `CompressionStream` produces that carry their own checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkEncoding {
    Gzip,
    Deflate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    #[error("the chunk is neither gzip nor zlib-wrapped deflate")]
    UnknownFormat,
    #[error("the chunk is not valid {0}: {1}")]
    Corrupt(&'static str, String),
    #[error("the chunk inflates to more than {limit} bytes")]
    TooLarge { limit: usize },
}

impl ChunkEncoding {
    /// Recognises the format by its header: gzip's magic bytes, or a zlib header whose check
    /// bits hold (RFC 1950 §2.2), so random bytes are not mistaken for deflate.
    pub fn sniff(bytes: &[u8]) -> Option<ChunkEncoding> {
        match bytes {
            [0x1f, 0x8b, 0x08, ..] => Some(ChunkEncoding::Gzip),
            [cmf, flg, ..]
                if cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0 =>
            {
                Some(ChunkEncoding::Deflate)
            }
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ChunkEncoding::Gzip => "gzip",
            ChunkEncoding::Deflate => "deflate",
        }
    }

    pub fn from_name(name: &str) -> Option<ChunkEncoding> {
        match name {
            "gzip" => Some(ChunkEncoding::Gzip),
            "deflate" => Some(ChunkEncoding::Deflate),
            _ => None,
        }
    }

    /// Inflates the whole chunk, checking its checksum, and refuses to produce more than
    /// `limit` bytes: a few kilobytes of deflate can expand to gigabytes.
    pub fn inflate(self, bytes: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
        let reader: Box<dyn Read + '_> = match self {
            ChunkEncoding::Gzip => Box::new(GzDecoder::new(bytes)),
            ChunkEncoding::Deflate => Box::new(ZlibDecoder::new(bytes)),
        };
        let mut out = Vec::new();
        reader
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| InflateError::Corrupt(self.name(), e.to_string()))?;
        if out.len() > limit {
            return Err(InflateError::TooLarge { limit });
        }
        Ok(out)
    }
}

/// Sniffs and inflates in one step.
pub fn inflate_chunk(bytes: &[u8], limit: usize) -> Result<(ChunkEncoding, Vec<u8>), InflateError> {
    let encoding = ChunkEncoding::sniff(bytes).ok_or(InflateError::UnknownFormat)?;
    Ok((encoding, encoding.inflate(bytes, limit)?))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::{GzEncoder, ZlibEncoder};
    use flate2::Compression;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_and_zlib_are_recognised_and_inflated() {
        let (encoding, out) = inflate_chunk(&gzip(b"hello"), 100).unwrap();
        assert_eq!(
            (encoding, out.as_slice()),
            (ChunkEncoding::Gzip, &b"hello"[..])
        );
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(b"hi").unwrap();
        let (encoding, out) = inflate_chunk(&z.finish().unwrap(), 100).unwrap();
        assert_eq!(
            (encoding, out.as_slice()),
            (ChunkEncoding::Deflate, &b"hi"[..])
        );
    }

    #[test]
    fn plain_text_and_truncated_gzip_are_refused() {
        assert_eq!(
            inflate_chunk(b"{\"events\":[]}", 100).unwrap_err(),
            InflateError::UnknownFormat
        );
        let whole = gzip(b"some replay events");
        let cut = &whole[..whole.len() - 6];
        assert!(matches!(
            inflate_chunk(cut, 100),
            Err(InflateError::Corrupt("gzip", _))
        ));
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 1_000_000]);
        assert!(bomb.len() < 5_000);
        assert_eq!(
            inflate_chunk(&bomb, 10_000).unwrap_err(),
            InflateError::TooLarge { limit: 10_000 }
        );
    }
}
