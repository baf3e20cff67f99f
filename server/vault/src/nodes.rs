//! One Vault cluster reached at one address or at several, and which answers mean "this node
//! cannot serve you now, another may".
//!
//! The usual production setup is one address (a Kubernetes Service, a load balancer) behind which
//! the active node changes; then there is nothing to choose here. Where there is no such address
//! (nodes on VMs, the tests' cluster on loopback), `KEYWAY_VAULT_ADDR` may list the nodes. Keyway
//! keeps sending to the node that last answered and moves to the next one only on an answer that
//! proves the request was not carried out: the connection was refused (nothing was sent), or the
//! node said it has no active node to hand the request to, or is sealed ([`not_serving`]). A
//! timeout or a connection cut mid-request is never retried elsewhere: the write may have landed,
//! and the user's next save (with check-and-set) is what finds out.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use url::Url;

use crate::error::{from_status, VaultError};

/// At most this many addresses in one `KEYWAY_VAULT_ADDR` (a cluster has 3 or 5 nodes).
const MAX_ADDRS: usize = 9;

/// `KEYWAY_VAULT_ADDR`: one address, or the nodes of one cluster separated by commas, tried in
/// this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultAddrs(Vec<Url>);

impl VaultAddrs {
    /// Where requests start.
    pub fn first(&self) -> &Url {
        &self.0[0]
    }

    /// The other nodes, in order (`VaultConfig::more_addrs`).
    pub fn rest(&self) -> &[Url] {
        &self.0[1..]
    }
}

impl FromStr for VaultAddrs {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let addrs = list
            .split(',')
            .map(|a| {
                let a = a.trim();
                Url::parse(a).map_err(|e| format!("\"{a}\" is not a Vault address ({e})"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if addrs.len() > MAX_ADDRS {
            return Err(format!(
                "at most {MAX_ADDRS} Vault addresses, not {}",
                addrs.len()
            ));
        }
        Ok(VaultAddrs(addrs))
    }
}

impl fmt::Display for VaultAddrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<&str> = self.0.iter().map(Url::as_str).collect();
        f.write_str(&list.join(","))
    }
}

/// The cluster's addresses (each ending in `v1/`) and the one that answered last.
#[derive(Debug)]
pub(crate) struct Nodes {
    bases: Vec<Url>,
    current: AtomicUsize,
}

impl Nodes {
    /// `bases` must not be empty; the first is where requests start.
    pub(crate) fn new(bases: Vec<Url>) -> Nodes {
        assert!(!bases.is_empty(), "a Vault client needs an address");
        Nodes {
            bases,
            current: AtomicUsize::new(0),
        }
    }

    /// The first address: every URL is built on it, then [`Nodes::rebase`]d.
    pub(crate) fn first(&self) -> &Url {
        &self.bases[0]
    }

    pub(crate) fn len(&self) -> usize {
        self.bases.len()
    }

    /// The order to try the nodes in: the one that answered last, then the ones after it in
    /// the configured order (wrapping around).
    pub(crate) fn order(&self) -> impl Iterator<Item = usize> + '_ {
        let start = self.current.load(Ordering::Relaxed) % self.bases.len();
        (0..self.bases.len()).map(move |i| (start + i) % self.bases.len())
    }

    /// Node `node` answered: later requests start there.
    pub(crate) fn answered(&self, node: usize) {
        self.current.store(node, Ordering::Relaxed);
    }

    /// `url` (built on [`Nodes::first`]) moved onto node `node`, path and query kept.
    ///
    /// By concatenation, never `Url::join`: the rest of the URL begins with a mount name, and a
    /// mount named `http:evil.example` joined onto an `https` base is read as an absolute URL,
    /// which would send the user's token to that host. The result's origin is checked all the
    /// same.
    pub(crate) fn rebase(&self, url: &Url, node: usize) -> Url {
        if node == 0 {
            return url.clone();
        }
        let rest = url
            .as_str()
            .strip_prefix(self.bases[0].as_str())
            .expect("every URL is built on the first address");
        let moved = Url::parse(&format!("{}{rest}", self.bases[node]))
            .expect("a base URL followed by encoded path segments is a URL");
        assert_eq!(
            moved.origin(),
            self.bases[node].origin(),
            "a URL moved onto another node stays on that node"
        );
        moved
    }
}

/// Whether an answer says this node could not carry out the request and did not: the errors
/// [`from_status`] reads as [`VaultError::NoActiveNode`] (a standby that knows no active node to
/// forward to, or that redirected to the active node instead of forwarding) and
/// [`VaultError::Sealed`]. Another node of the cluster may serve it.
pub(crate) fn not_serving(status: u16, errors: &[String]) -> bool {
    matches!(
        from_status(status, errors),
        VaultError::NoActiveNode(_) | VaultError::Sealed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(list: &[&str]) -> Nodes {
        Nodes::new(list.iter().map(|a| a.parse().unwrap()).collect())
    }

    #[test]
    fn an_address_list_is_read_in_order_and_bounded() {
        let one: VaultAddrs = "http://127.0.0.1:8200".parse().unwrap();
        assert!(one.rest().is_empty());
        let three: VaultAddrs = "http://a:8200, http://b:8200,http://c:8200"
            .parse()
            .unwrap();
        assert_eq!(three.first().as_str(), "http://a:8200/");
        assert_eq!(three.rest().len(), 2);
        assert_eq!(
            three.to_string(),
            "http://a:8200/,http://b:8200/,http://c:8200/"
        );
        assert!("http://a,".parse::<VaultAddrs>().is_err());
        assert!(["http://a"; 10].join(",").parse::<VaultAddrs>().is_err());
    }

    #[test]
    fn a_url_moves_to_another_node_with_its_path_and_query() {
        let n = nodes(&[
            "http://127.0.0.1:8200/v1/",
            "https://vault-2.example/proxy/v1/",
        ]);
        let url: Url = "http://127.0.0.1:8200/v1/kv/data/a%20b?version=3"
            .parse()
            .unwrap();
        assert_eq!(n.rebase(&url, 0), url);
        assert_eq!(
            n.rebase(&url, 1).as_str(),
            "https://vault-2.example/proxy/v1/kv/data/a%20b?version=3"
        );
    }

    #[test]
    fn a_mount_that_looks_like_a_scheme_stays_a_path_on_every_node() {
        let n = nodes(&["https://vault-1.example/v1/", "https://vault-2.example/v1/"]);
        for mount in ["http:evil.example", "https:evil.example", "//evil.example"] {
            let mut url = n.first().clone();
            url.path_segments_mut()
                .unwrap()
                .pop_if_empty()
                .extend([mount, "metadata", "x"]);
            let moved = n.rebase(&url, 1);
            assert_eq!(
                moved.host_str(),
                Some("vault-2.example"),
                "{mount}: {moved}"
            );
            assert!(moved.path().starts_with("/v1/"), "{mount}: {moved}");
        }
    }

    #[test]
    fn the_node_that_answered_last_is_tried_first_then_the_ones_after_it() {
        let n = nodes(&["http://a/v1/", "http://b/v1/", "http://c/v1/"]);
        assert_eq!(n.order().collect::<Vec<_>>(), [0, 1, 2]);
        n.answered(2);
        assert_eq!(n.order().collect::<Vec<_>>(), [2, 0, 1]);
    }

    #[test]
    fn only_answers_that_prove_nothing_was_done_move_on() {
        let e = |m: &str| vec![m.to_string()];
        assert!(not_serving(307, &[]));
        assert!(not_serving(503, &e("Vault is sealed")));
        assert!(not_serving(
            500,
            &e("local node not active but active cluster node not found")
        ));
        assert!(!not_serving(500, &e("internal error")));
        assert!(!not_serving(400, &e("Vault is sealed")));
        assert!(!not_serving(403, &e("permission denied")));
    }
}
