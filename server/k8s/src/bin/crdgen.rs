//! Prints the VSO CRDs generated from Keyway's types: `crdgen > deploy/crds/vso.yaml`.

fn main() {
    print!("{}", keyway_k8s::crds_yaml());
}
