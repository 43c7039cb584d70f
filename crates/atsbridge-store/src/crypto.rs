//! Credentials at rest: AES-256-GCM with a fresh random nonce per value and the id of the key
//! stored beside each ciphertext, so keys can be rotated (new values use the current key, old
//! values stay readable while their key is still in the ring).

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::StoreError;

/// The master keys, by id; `current` encrypts.
#[derive(Clone)]
pub struct KeyRing {
    current: String,
    keys: BTreeMap<String, Key<Aes256Gcm>>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// A ring with one 32-byte key.
    pub fn new(id: impl Into<String>, key: [u8; 32]) -> Self {
        let id = id.into();
        let mut keys = BTreeMap::new();
        keys.insert(id.clone(), Key::<Aes256Gcm>::from(key));
        KeyRing { current: id, keys }
    }

    /// Parses `id:base64key` (the form of `ATSBRIDGE_MASTER_KEY`); several separated by
    /// commas, the first one current.
    pub fn parse(spec: &str) -> Result<Self, StoreError> {
        let mut ring: Option<KeyRing> = None;
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, b64) = part.split_once(':').ok_or_else(|| {
                StoreError::Config("a master key is `id:base64` (32 bytes)".into())
            })?;
            let bytes = STANDARD
                .decode(b64)
                .map_err(|_| StoreError::Config(format!("master key `{id}` is not base64")))?;
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| StoreError::Config(format!("master key `{id}` is not 32 bytes")))?;
            match &mut ring {
                None => ring = Some(KeyRing::new(id, key)),
                Some(r) => {
                    r.keys.insert(id.to_owned(), Key::<Aes256Gcm>::from(key));
                }
            }
        }
        ring.ok_or_else(|| StoreError::Config("no master key given".into()))
    }

    /// A new random key, as `id:base64` for a key file or the environment.
    pub fn generate_spec(id: &str) -> String {
        let key = Aes256Gcm::generate_key(OsRng);
        format!("{id}:{}", STANDARD.encode(key))
    }

    pub fn current_id(&self) -> &str {
        &self.current
    }

    /// `v1:<key id>:<base64 nonce>:<base64 ciphertext>`
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, StoreError> {
        let key = &self.keys[&self.current];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = Aes256Gcm::new(key)
            .encrypt(&nonce, plaintext)
            .map_err(|_| StoreError::Crypto("encryption failed".into()))?;
        Ok(format!(
            "v1:{}:{}:{}",
            self.current,
            STANDARD.encode(nonce),
            STANDARD.encode(ciphertext)
        ))
    }

    pub fn decrypt(&self, sealed: &str) -> Result<Vec<u8>, StoreError> {
        let mut parts = sealed.splitn(4, ':');
        let (Some("v1"), Some(key_id), Some(nonce), Some(ciphertext)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(StoreError::Crypto(
                "stored credentials are not in a known format".into(),
            ));
        };
        let key = self.keys.get(key_id).ok_or_else(|| {
            StoreError::Crypto(format!(
                "credentials were sealed with key `{key_id}`, which is not in the key ring"
            ))
        })?;
        let nonce = STANDARD
            .decode(nonce)
            .map_err(|_| StoreError::Crypto("bad nonce".into()))?;
        if nonce.len() != 12 {
            return Err(StoreError::Crypto("bad nonce".into()));
        }
        let ciphertext = STANDARD
            .decode(ciphertext)
            .map_err(|_| StoreError::Crypto("bad ciphertext".into()))?;
        Aes256Gcm::new(key)
            .decrypt(Nonce::from_slice(&nonce), ciphertext.as_ref())
            .map_err(|_| StoreError::Crypto("credentials cannot be decrypted with the configured key (wrong key or tampered value)".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_with_a_fresh_nonce_each_time() {
        let ring = KeyRing::new("k1", [7; 32]);
        let a = ring.encrypt(b"secret").unwrap();
        let b = ring.encrypt(b"secret").unwrap();
        assert_ne!(a, b, "a fresh nonce per value");
        assert!(a.starts_with("v1:k1:"));
        assert!(!a.contains("secret"));
        assert_eq!(ring.decrypt(&a).unwrap(), b"secret");
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_tampering_fails() {
        let old = KeyRing::new("k1", [1; 32]);
        let sealed = old.encrypt(b"api-key").unwrap();
        let spec = format!(
            "k2:{},k1:{}",
            STANDARD.encode([2u8; 32]),
            STANDARD.encode([1u8; 32])
        );
        let rotated = KeyRing::parse(&spec).unwrap();
        assert_eq!(rotated.current_id(), "k2");
        assert_eq!(rotated.decrypt(&sealed).unwrap(), b"api-key");
        assert!(rotated.encrypt(b"x").unwrap().starts_with("v1:k2:"));
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(old.decrypt(&tampered).is_err());
        assert!(
            KeyRing::new("k3", [3; 32]).decrypt(&sealed).is_err(),
            "unknown key id"
        );
        assert!(KeyRing::parse("k1:short").is_err());
        assert!(KeyRing::parse(&KeyRing::generate_spec("gen")).is_ok());
    }
}
