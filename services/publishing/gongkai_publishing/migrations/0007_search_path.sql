-- 0006 pinned the search functions' search_path to the schema they were created in (SET
-- search_path FROM CURRENT). A projection rebuild (rebuild.py) creates them in a temporary schema
-- and renames it at the swap, so after a rebuild every search failed ("function search_tokens(text)
-- does not exist"). They now resolve their helpers through the caller's search_path: the
-- service's own schema, whatever its name.
ALTER FUNCTION search_vector(text, text, text[], text, text) RESET search_path;
ALTER FUNCTION search_query(text) RESET search_path;
