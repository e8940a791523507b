//! Certificate and key files as `AT+CCERTDOWN` stored them (`ssl.md` §14.3): PEM or
//! DER; keys PKCS#8, PKCS#1 (RSA) or SEC1 (EC), and encrypted PKCS#8 opened with the
//! password. Every failure is a message for the log: the AT side only says 19.

use pkcs8::der::{Reader, SliceReader};
use pkcs8::EncryptedPrivateKeyInfo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const PEM_BEGIN: &[u8] = b"-----BEGIN ";
const ENCRYPTED_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
const ENCRYPTED_END: &str = "-----END ENCRYPTED PRIVATE KEY-----";

fn is_pem(file: &[u8]) -> bool {
    file.windows(PEM_BEGIN.len()).any(|w| w == PEM_BEGIN)
}

/// The certificates of a file, in file order: every `CERTIFICATE` section of a PEM file,
/// or every DER certificate of a DER file (one, or several back to back).
pub(crate) fn certificates(file: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = if is_pem(file) {
        CertificateDer::pem_slice_iter(file)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("certificate PEM does not parse: {e}"))?
    } else {
        der_sequence(file)?
            .into_iter()
            .map(|der| CertificateDer::from(der.to_vec()))
            .collect()
    };
    if certs.is_empty() {
        return Err("no certificate in the file".into());
    }
    Ok(certs)
}

/// Splits back-to-back DER values (each a SEQUENCE, as certificates are).
fn der_sequence(file: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut reader = SliceReader::new(file).map_err(|e| format!("DER: {e}"))?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        let tlv = reader
            .tlv_bytes()
            .map_err(|e| format!("DER does not parse: {e}"))?;
        out.push(tlv);
    }
    Ok(out)
}

/// The client key of a file. An encrypted PKCS#8 key (PEM `ENCRYPTED PRIVATE KEY`, or
/// DER) needs `password`; a wrong one fails here, before any traffic.
pub(crate) fn private_key(
    file: &[u8],
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, String> {
    if let Some(encrypted) = encrypted_pem(file)? {
        return decrypt(&encrypted, password);
    }
    if is_pem(file) {
        return PrivateKeyDer::from_pem_slice(file)
            .map_err(|e| format!("private key PEM does not parse: {e}"));
    }
    if let Ok(plain) = PrivateKeyDer::try_from(file) {
        return Ok(plain.clone_key());
    }
    // Not a plain key: an encrypted PKCS#8 DER (its outer SEQUENCE starts with the
    // algorithm, not a version number, so it never parses as a plain key).
    decrypt(file, password)
}

/// The DER body of an `ENCRYPTED PRIVATE KEY` PEM section, if the file has one.
fn encrypted_pem(file: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let Ok(text) = std::str::from_utf8(file) else {
        return Ok(None);
    };
    let Some(start) = text.find(ENCRYPTED_BEGIN) else {
        return Ok(None);
    };
    let Some(end) = text[start..].find(ENCRYPTED_END) else {
        return Err("encrypted key PEM has no END line".into());
    };
    let section = &text[start..start + end + ENCRYPTED_END.len()];
    let (_, doc) = pkcs8::Document::from_pem(section)
        .map_err(|e| format!("encrypted key PEM does not parse: {e}"))?;
    Ok(Some(doc.as_bytes().to_vec()))
}

fn decrypt(der: &[u8], password: Option<&str>) -> Result<PrivateKeyDer<'static>, String> {
    let info = EncryptedPrivateKeyInfo::try_from(der)
        .map_err(|e| format!("private key does not parse: {e}"))?;
    let Some(password) = password else {
        return Err("the private key is encrypted and no password is set".into());
    };
    let plain = info
        .decrypt(password.as_bytes())
        .map_err(|e| format!("private key does not decrypt (wrong password?): {e}"))?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        plain.as_bytes().to_vec(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(certificates(b"").is_err());
        assert!(certificates(b"hello").is_err());
        assert!(
            certificates(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n").is_err()
        );
        assert!(private_key(b"", None).is_err());
        assert!(private_key(b"\x30\x03\x02\x01", Some("pw")).is_err());
        assert!(private_key(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n", Some("pw")).is_err());
    }
}
