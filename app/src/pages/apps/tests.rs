use super::page_param;

#[test]
fn the_page_in_the_url_counts_from_one_and_anything_else_is_the_first() {
    assert_eq!(page_param(None), 1);
    assert_eq!(page_param(Some("3")), 3);
    assert_eq!(page_param(Some(" 2 ")), 2);
    assert_eq!(page_param(Some("0")), 1);
    assert_eq!(page_param(Some("-1")), 1);
    assert_eq!(page_param(Some("two")), 1);
}
