-- Issue 10: Chinese full-text search over the catalogue (docs/decisions.md, "Search").
--
-- The bundled PostgreSQL has no pg_trgm and no Chinese parser, and a segmenter (jieba) splits a
-- word differently in different sentences, so a two-character word can be missed. Instead every
-- character of Chinese text starts one lexeme: the two characters from it (the last character of
-- a run stands alone); a run of Latin letters or digits is one lexeme. A query of n Chinese
-- characters asks for all its n-1 bigrams (a two-character word: exactly its one lexeme), one
-- character is a prefix query, and "2025年" is '2025' & '年':*. Not a phrase (<->): checking
-- positions reads every candidate's vector (1 s for a common phrase at 100k items), while the
-- GIN index answers "all these lexemes" alone.
-- Text is NFKC-normalised (full-width digits and letters become ASCII) and lower-cased.
--
-- The column is GENERATED from what the projection writes (title, summary, keywords, 文号, body),
-- so the projection needs no change. The body is indexed up to its first 32,000 characters: a
-- tsvector holds at most 1 MB and positions stop at 16,383, and a catalogue document's text is
-- far shorter (a longer one is still found by its title, summary and first 32,000 characters).

-- The lexemes of a text, in order (one per Chinese character, one per Latin/digit run).
CREATE FUNCTION search_tokens(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    run   text;
    chars text[];
    n     int;
    toks  text[] := '{}';
BEGIN
    FOR run IN
        SELECT m[1] FROM regexp_matches(lower(normalize(t, NFKC)),
            '([0-9a-z]+|[㐀-䶿一-鿿豈-﫿𠀀-𯿽]+)', 'g') AS m
    LOOP
        IF run ~ '^[0-9a-z]' THEN
            toks := toks || run;
        ELSE
            chars := regexp_split_to_array(run, '');
            n := array_length(chars, 1);
            FOR i IN 1..n LOOP
                toks := toks || (chars[i] || coalesce(chars[i + 1], ''));
            END LOOP;
        END IF;
    END LOOP;
    RETURN toks;
END $$;

-- The searchable vector of a catalogue item.
CREATE FUNCTION search_vector(title text, summary text, keywords text[], doc_number text, body text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
    SELECT coalesce(string_agg(quote_literal(tok) || ':' || least(pos, 16383), ' ')::tsvector, ''::tsvector)
    FROM unnest(search_tokens(concat_ws(' ', title, summary, array_to_string(keywords, ' '),
                                        doc_number, left(body, 32000)))) WITH ORDINALITY AS x(tok, pos)
$$;

-- A query: words separated by spaces or punctuation must all occur, each as all its lexemes.
-- NULL when the query has nothing searchable in it.
CREATE FUNCTION search_query(q text) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET search_path FROM CURRENT AS $$
DECLARE
    term   text;
    toks   text[];
    n      int;
    last   text;
    phrase text;
    terms  text[] := '{}';
BEGIN
    FOR term IN
        SELECT w FROM regexp_split_to_table(lower(normalize(q, NFKC)),
            '[^0-9a-z㐀-䶿一-鿿豈-﫿𠀀-𯿽]+') AS w WHERE w <> ''
    LOOP
        toks := search_tokens(term);
        n := array_length(toks, 1);
        last := toks[n];
        IF last !~ '^[0-9a-z]' AND char_length(last) = 1 THEN
            -- a lone last character: covered by the bigram before it, else any lexeme it starts
            IF n > 1 AND char_length(toks[n - 1]) = 2 AND toks[n - 1] !~ '^[0-9a-z]' THEN
                toks := toks[1:n - 1];
                phrase := NULL;
            ELSE
                toks := toks[1:n - 1];
                phrase := quote_literal(last) || ':*';
            END IF;
        ELSE
            phrase := NULL;
        END IF;
        SELECT string_agg(quote_literal(x), ' & ' ORDER BY o) INTO term FROM unnest(toks) WITH ORDINALITY AS u(x, o);
        term := concat_ws(' & ', term, phrase);
        terms := terms || ('(' || term || ')');
    END LOOP;
    IF array_length(terms, 1) IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN array_to_string(terms, ' & ')::tsquery;
END $$;

ALTER TABLE catalog_items ADD COLUMN search tsvector
    GENERATED ALWAYS AS (search_vector(title, summary, keywords, doc_number, body)) STORED;
CREATE INDEX catalog_search ON catalog_items USING gin (search);
-- the filters the catalogue offers, each newest first (category and issuing body: 0004)
CREATE INDEX catalog_by_kind ON catalog_items (kind, published_on DESC, index_number DESC);
CREATE INDEX catalog_by_change ON catalog_items ((coalesce(updated_seq, seq)) DESC);  -- the feed
