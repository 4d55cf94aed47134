//! Registering as a softphone: the client side of REGISTER, for the
//! simulated agents (rsipstack answers the digest challenge).

use std::net::SocketAddr;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::Registration;

use super::SipEndpoint;

impl SipEndpoint {
    /// REGISTERs `user` at `registrar` for `expires` seconds, answering a
    /// digest challenge with `password`; the final status code.
    pub async fn register_to(
        &self,
        registrar: SocketAddr,
        user: &str,
        password: &str,
        expires: u32,
    ) -> Result<u16, String> {
        let credential = Credential {
            username: user.to_owned(),
            password: password.to_owned(),
            realm: None,
            auth_username: None,
        };
        let mut registration = Registration::new(self.endpoint.inner.clone(), Some(credential));
        let server = rsipstack::sip::Uri::try_from(format!("sip:{registrar}").as_str())
            .map_err(|e| e.to_string())?;
        let response = registration
            .register(server, Some(expires))
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.status_code.code())
    }
}
