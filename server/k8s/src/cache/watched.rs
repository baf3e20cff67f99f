//! One kind's cached objects over every served namespace: one reflector store per watch (the
//! whole cluster, or one per served namespace), read as one.
//!
//! Why not one store fed by several namespaced watches: a watcher's relist (`Init` …
//! `InitDone`) replaces its writer's whole store, so namespace A's relist would wipe namespace
//! B's objects until B relists too. One store per watch keeps each relist to its own namespace.
//! Callers see what they used of a kube-rs [`Store`]: [`Watched::state`], [`Watched::get`],
//! [`Watched::wait_until_ready`].

use std::sync::Arc;

use kube::runtime::reflector::{ObjectRef, Store};
use kube::Resource;

use crate::scope::Namespace;

/// The stores of one kind, each with the namespace its watch covers (`None`: all of them).
pub struct Watched<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    stores: Vec<(Option<Namespace>, Store<K>)>,
}

impl<K> Clone for Watched<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    fn clone(&self) -> Self {
        Watched {
            stores: self.stores.clone(),
        }
    }
}

impl<K> Watched<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    pub(crate) fn new(stores: Vec<(Option<Namespace>, Store<K>)>) -> Self {
        Watched { stores }
    }

    /// Every cached object, of every served namespace.
    pub fn state(&self) -> Vec<Arc<K>> {
        match self.stores.as_slice() {
            [(_, one)] => one.state(),
            many => many.iter().flat_map(|(_, s)| s.state()).collect(),
        }
    }

    /// The cached objects of `namespace` only: its own store when each served namespace has
    /// one (no scan of the others), else the cluster-wide store's objects of that namespace.
    pub fn state_in(&self, namespace: &str) -> Vec<Arc<K>> {
        let mut out = Vec::new();
        for (ns, store) in &self.stores {
            match ns {
                Some(ns) if ns.as_str() == namespace => out.extend(store.state()),
                Some(_) => {}
                None => out.extend(
                    store
                        .state()
                        .into_iter()
                        .filter(|o| o.meta().namespace.as_deref() == Some(namespace)),
                ),
            }
        }
        out
    }

    /// The object `key` names, from the store of its namespace (none when Keyway does not serve
    /// that namespace).
    pub fn get(&self, key: &ObjectRef<K>) -> Option<Arc<K>> {
        self.stores
            .iter()
            .find(|(ns, _)| match ns {
                None => true,
                Some(ns) => key.namespace.as_deref() == Some(ns.as_str()),
            })
            .and_then(|(_, s)| s.get(key))
    }

    /// Returns once every watch of this kind has had its first full list.
    pub async fn wait_until_ready(&self) {
        for (_, s) in &self.stores {
            let _ = s.wait_until_ready().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Secret;
    use kube::runtime::{reflector, watcher};

    fn secret(ns: &str, name: &str) -> Secret {
        let mut s = Secret::default();
        s.metadata.namespace = Some(ns.into());
        s.metadata.name = Some(name.into());
        s
    }

    /// A store of `ns` that listed `names`.
    fn listed(ns: &str, names: &[&str]) -> (Store<Secret>, reflector::store::Writer<Secret>) {
        let (reader, mut writer) = reflector::store();
        writer.apply_watcher_event(&watcher::Event::Init);
        for n in names {
            writer.apply_watcher_event(&watcher::Event::InitApply(secret(ns, n)));
        }
        writer.apply_watcher_event(&watcher::Event::InitDone);
        (reader, writer)
    }

    #[test]
    fn one_namespace_relisting_leaves_the_others_alone() {
        let (a, mut wa) = listed("a", &["one", "two"]);
        let (b, _wb) = listed("b", &["three"]);
        let w = Watched::new(vec![
            (Some("a".parse().unwrap()), a),
            (Some("b".parse().unwrap()), b),
        ]);
        assert_eq!(w.state().len(), 3);
        // Namespace a relists and finds only `one`: b's Secret stays.
        wa.apply_watcher_event(&watcher::Event::Init);
        wa.apply_watcher_event(&watcher::Event::InitApply(secret("a", "one")));
        wa.apply_watcher_event(&watcher::Event::InitDone);
        let mut names: Vec<String> = w
            .state()
            .iter()
            .map(|s| s.metadata.name.clone().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["one", "three"]);
        assert!(w.get(&ObjectRef::new("three").within("b")).is_some());
        assert!(w.get(&ObjectRef::new("three").within("a")).is_none());
        assert!(w.get(&ObjectRef::new("one").within("elsewhere")).is_none());
    }
}
