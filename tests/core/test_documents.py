"""Local documents without an embedding model: reading, passages, indexing, bad input, BM25."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path

import pytest

from desktop.documents import DocumentIndex, DocumentsError, IndexJob, IndexProgress, Retriever
from desktop.documents.passages import document_text, split_passages
from desktop.documents.readers import SkipFile, read_document
from desktop.documents.watcher import Watcher, changed_collections
from tests.documents_corpus import write_docx, write_encrypted_pdf, write_odt, write_pdf

ROOT = Path(__file__).resolve().parents[2]


def index_all(db: Path, names: list[str] | None = None, on_progress=None):  # type: ignore[no-untyped-def]
    return IndexJob(db, names, on_progress=on_progress).run()


def consistent(db: Path) -> None:
    """The index agrees with itself: FTS, passage counts, no orphans."""
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')")
    rows = conn.execute("SELECT f.passages, (SELECT count(*) FROM passages p WHERE p.file_id = f.id)"
                        " FROM files f").fetchall()
    assert all(a == b for a, b in rows)
    assert conn.execute("SELECT count(*) FROM passages WHERE file_id NOT IN (SELECT id FROM files)"
                        ).fetchone()[0] == 0
    conn.close()


# -- readers and passages ------------------------------------------------------------------

def test_formats_keep_pages_and_headings(tmp_path: Path) -> None:
    md = tmp_path / "notes.md"
    md.write_text("# Garden\n\nIntro.\n\n## Herons\n\nThe heron waits.\n\n```\n# not a heading\n```\n")
    sections = read_document(md).sections
    assert [s.heading for s in sections] == ["Garden", "Garden > Herons"]
    assert "# not a heading" in sections[1].text

    rst = tmp_path / "guide.rst"
    rst.write_text("Guide\n=====\n\nStart.\n\nInstall\n-------\n\nRun make.\n")
    assert [s.heading for s in read_document(rst).sections] == ["Guide", "Guide > Install"]

    html = tmp_path / "page.html"
    html.write_text("<html><head><style>p{}</style></head><body><h1>Birds</h1><p>Owls &amp; "
                    "hawks.</p><script>var x;</script><h2>Night</h2><p>Owls hunt.</p></body></html>")
    sections = read_document(html).sections
    assert [s.heading for s in sections] == ["Birds", "Birds > Night"]
    assert "Owls & hawks." in sections[0].text and "var x" not in document_text(read_document(html))

    pdf = write_pdf(tmp_path / "book.pdf", ["Herons nest in reeds.", "", "Otters eat fish."])
    assert [(s.page, s.text) for s in read_document(pdf).sections] == [
        (1, "Herons nest in reeds."), (3, "Otters eat fish.")]

    docx = write_docx(tmp_path / "memo.docx", [("Heading1", "Budget"), ("", "Spend less on paper.")])
    assert read_document(docx).sections[0].heading == "Budget"
    odt = write_odt(tmp_path / "memo.odt", [(1, "Plan"), (0, "Plant trees in spring.")])
    assert "Plant trees" in read_document(odt).sections[0].text

    from desktop.documents.readers import is_supported

    licence = tmp_path / "LICENSE"  # known by name: no extension needed
    licence.write_text("Permission is granted to copy this work.\n")
    assert is_supported(licence) and "Permission" in read_document(licence).sections[0].text
    assert not is_supported(tmp_path / "photo") and not is_supported(tmp_path / "LICENSE.png")

    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Café crème à la française".encode("cp1252"))
    assert read_document(latin).sections[0].text == "Café crème à la française"


def test_real_pdf_from_the_system_is_read_page_by_page() -> None:
    pdfs = [p for p in (Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"),
                        Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf")) if p.is_file()]
    if not pdfs:
        pytest.skip("no Debian documentation PDFs on this machine")
    document = read_document(pdfs[0])
    pages = [s.page for s in document.sections]
    assert pages == sorted(pages) and len(pages) > 5
    passages = split_passages(document)
    assert {p.page for p in passages} == set(pages)


def test_pdf_text_joins_hyphenated_words_and_drops_dot_leaders() -> None:
    from desktop.documents.readers import clean_pdf_text

    assert clean_pdf_text("DER manip\ufffeulation and iden\x02\ntifiers") == (
        "DER manipulation and identifiers")
    assert clean_pdf_text("Decoding . . . . . . . . 20\nIndex.......31") == "Decoding … 20\nIndex … 31"
    assert clean_pdf_text("Wait... version 1.2.3.4") == "Wait... version 1.2.3.4"
    manual = Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf")  # TeX hyphenation, a contents
    if manual.is_file():
        text = document_text(read_document(manual))
        assert "manipulation" in text and "\ufffe" not in text and ". . . . ." not in text


def test_passages_are_exact_slices_with_overlap(tmp_path: Path) -> None:
    readme = ROOT / "README.md"
    document = read_document(readme)
    text = document_text(document)
    passages = split_passages(document, target=120, overlap=20)
    assert len(passages) > 5
    assert all(text[p.start:p.end] == p.text for p in passages)
    assert all(p.tokens <= 160 for p in passages)
    same_section = [(a, b) for a, b in zip(passages, passages[1:], strict=False)
                    if a.heading == b.heading and b.start < a.end]
    assert same_section, "neighbouring passages overlap"
    assert all(p.heading for p in passages[1:])


@pytest.mark.parametrize("name,content,reason", [
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"   \n\n  ", "no text"),
    ("binary.txt", b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 8, "binary"),
    ("corrupt.pdf", b"%PDF-1.4\n1 0 obj garbage", "damaged"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "damaged"),
])
def test_bad_files_get_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SkipFile, match=reason):
        read_document(path)


def test_scanned_and_encrypted_pdfs_get_a_reason(tmp_path: Path) -> None:
    with pytest.raises(SkipFile, match=r"no text found \(scanned\?\)"):
        read_document(write_pdf(tmp_path / "scan.pdf", ["", ""]))
    with pytest.raises(SkipFile, match="password"):
        read_document(write_encrypted_pdf(tmp_path / "locked.pdf"))


# -- indexing ------------------------------------------------------------------------------

@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "herons.md").write_text("# Herons\n\nThe grey heron nests in tall reeds by lakes.\n")
    (folder / "otters.txt").write_text("Otters eat fish and crayfish along the river bank.\n")
    write_pdf(folder / "atlas.pdf", ["Maps of the northern coast.", "Lighthouses guide ships."])
    sub = folder / "sub"
    sub.mkdir()
    (sub / "code.py").write_text("def kingfisher_speed():\n    return 'very fast'\n")
    (sub / "image.png").write_bytes(b"\x89PNG not indexed")  # unsupported: ignored, not listed
    return folder


def test_index_search_and_incremental_updates(tmp_path: Path, corpus: Path) -> None:
    db = tmp_path / "documents.sqlite3"
    index = DocumentIndex(db)
    index.create("Nature", [str(corpus)])
    seen: list[IndexProgress] = []
    [first] = index_all(db, on_progress=seen.append)
    assert (first.indexed, first.unchanged, first.skipped) == (4, 0, [])
    assert seen[-1].state == "done" and seen[-1].files_done == seen[-1].files_total == 4
    status = index.status("Nature")
    assert status.files == 4 and status.passages >= 5 and status.embedded_passages == 0

    retriever = Retriever(index)
    [hit] = retriever.search(["Nature"], "lighthouses", 3, "bm25")
    assert hit.path.endswith("atlas.pdf") and hit.page == 2
    [source] = retriever.sources(["Nature"], "Where does the heron nest?", 500, 3)[:1]
    assert source.path.endswith("herons.md") and source.heading == "Herons"
    assert source.marked_snippet().count("[heron]") == 1 and "[nests]" in source.marked_snippet()

    # Nothing changed: nothing is read again.
    [again] = index_all(db)
    assert (again.indexed, again.unchanged) == (0, 4)
    assert changed_collections(index) == []

    # Same bytes, new date: recognised by hash, not re-read.
    os.utime(corpus / "otters.txt", (1_000_000, 1_000_000))
    assert changed_collections(index) == ["Nature"]
    [touched] = index_all(db)
    assert (touched.indexed, touched.unchanged) == (0, 4)

    # Changed, deleted and new files.
    (corpus / "otters.txt").write_text("Otters now eat mostly eels.\n")
    (corpus / "herons.md").unlink()
    (corpus / "sub" / "new.rst").write_text("Swans\n=====\n\nSwans glide on the pond.\n")
    [changed] = index_all(db)
    assert (changed.indexed, changed.removed) == (2, 1)
    assert retriever.search(["Nature"], "heron", 3, "bm25") == []
    assert retriever.search(["Nature"], "eels", 3, "bm25")[0].path.endswith("otters.txt")
    assert retriever.search(["Nature"], "crayfish", 3, "bm25") == []
    assert retriever.search(["Nature"], "swans", 3, "bm25")[0].heading == "Swans"
    consistent(db)

    index.remove_paths("Nature", [str(corpus / "sub")])
    assert {Path(p).name for p in index.files(index.get("Nature").id)} == {"otters.txt", "atlas.pdf"}
    index.delete("Nature")
    with pytest.raises(DocumentsError, match="no collection called"):
        index.get("Nature")
    consistent(db)
    index.close()


def test_an_older_index_reads_again_what_is_now_read_better(tmp_path: Path, corpus: Path) -> None:
    from desktop.documents.index import SCHEMA_VERSION

    db = tmp_path / "documents.sqlite3"
    DocumentIndex(db).create("Nature", [str(corpus)])
    [first] = index_all(db)
    assert first.indexed == 4
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 1")  # as written before PDFs' hyphenated words were joined
    conn.close()
    index = DocumentIndex(db)
    assert index.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert changed_collections(index) == ["Nature"]  # the watcher starts the pass by itself
    [hit] = Retriever(index).search(["Nature"], "lighthouses", 3, "bm25")  # searchable meanwhile
    assert hit.page == 2
    [again] = index_all(db)
    assert (again.indexed, again.unchanged) == (1, 3)  # the PDF alone
    [later] = index_all(db)
    assert (later.indexed, later.unchanged) == (0, 4)
    consistent(db)
    index.close()

    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")  # a newer Openweight's index
    conn.close()
    with pytest.raises(DocumentsError, match="newer version of Openweight"):
        DocumentIndex(db)
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_words_in_most_passages_are_left_out_of_keyword_ranking(tmp_path: Path) -> None:
    # Scoring a word costs time for every passage holding it, and one in most passages
    # barely ranks; such words are skipped unless nothing else is left.
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(10):
        bird = "The kingfisher dives for fish. " if i == 7 else ""
        (folder / f"note{i}.txt").write_text(f"Garden notes, day {i}. {bird}Rain again.\n")
    db = tmp_path / "documents.sqlite3"
    index = DocumentIndex(db)
    index.create("Garden", [str(folder)])
    index_all(db)
    retriever = Retriever(index)
    assert retriever._distinctive(["garden", "kingfisher", "rain"]) == ["kingfisher"]
    [hit] = retriever.search(["Garden"], "garden kingfisher rain", 3, "bm25")
    assert hit.path.endswith("note7.txt")
    # Only common words: the rarest two are kept and still find passages.
    assert len(retriever.search(["Garden"], "garden rain notes", 20, "bm25")) == 10
    # The counts follow the index: once most notes mention the bird, it is common too.
    for i in range(10):
        rain = " Rain at last." if i == 3 else ""
        (folder / f"note{i}.txt").write_text(f"Garden notes, day {i}. A kingfisher.{rain}\n")
    index_all(db)
    assert retriever._distinctive(["garden", "kingfisher", "rain"]) == ["rain"]
    index.close()


def test_bad_input_is_listed_and_the_rest_indexed(tmp_path: Path, corpus: Path) -> None:
    bad = corpus / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.md").write_bytes(bytes(range(256)) * 20)
    (bad / "latin1.txt").write_bytes("Crème brûlée recipe".encode("latin-1"))  # indexed
    write_pdf(bad / "scan.pdf", ["", ""])
    write_encrypted_pdf(bad / "locked.pdf")
    (bad / "corrupt.pdf").write_bytes(b"%PDF-1.7\n%%EOF")
    with (bad / "huge.log").open("wb") as fh:  # sparse: 1 GB on paper, nothing on disk
        fh.truncate(1024 ** 3)
    os.symlink(corpus, bad / "loop")  # a folder link back up the tree
    os.symlink(bad / "self.txt", bad / "self.txt")
    os.symlink(bad / "gone.txt", bad / "dangling.txt")

    db = tmp_path / "documents.sqlite3"
    index = DocumentIndex(db)
    index.create("Mixed", [str(corpus)])
    [summary] = index_all(db)
    reasons = {Path(p).name: r for p, r in index.status("Mixed").skipped}
    assert reasons["empty.txt"] == "empty file"
    assert "binary" in reasons["binary.md"]
    assert "scanned?" in reasons["scan.pdf"]
    assert "password" in reasons["locked.pdf"]
    assert "damaged" in reasons["corrupt.pdf"]
    assert "too large" in reasons["huge.log"] and "1.0 GB" in reasons["huge.log"]
    assert "loop" in reasons["loop"] and "loops" in reasons["self.txt"]
    assert "broken link" in reasons["dangling.txt"]
    assert summary.indexed == 5  # the four good files and the Latin-1 one
    assert Retriever(index).search(["Mixed"], "brûlée", 1, "bm25")[0].path.endswith("latin1.txt")
    # Skipped files are remembered: an unchanged bad file is not read again.
    [again] = index_all(db)
    assert again.indexed == 0 and again.skipped == []
    consistent(db)
    index.close()


def test_a_folder_that_disappears_keeps_its_index(tmp_path: Path, corpus: Path) -> None:
    db = tmp_path / "documents.sqlite3"
    index = DocumentIndex(db)
    index.create("Drive", [str(corpus)])
    index_all(db)
    before = index.status("Drive").passages
    unplugged = tmp_path / "elsewhere"
    corpus.rename(unplugged)
    [summary] = index_all(db)
    assert summary.missing_paths == [str(corpus)] and summary.removed == 0
    status = index.status("Drive")
    assert status.passages == before and status.missing_paths == [str(corpus)]
    unplugged.rename(corpus)
    [back] = index_all(db)
    assert back.indexed == 0 and back.unchanged == 4
    index.close()


def test_files_deleted_or_changed_while_indexing(tmp_path: Path, corpus: Path) -> None:
    db = tmp_path / "documents.sqlite3"
    index = DocumentIndex(db)
    index.create("Busy", [str(corpus)])
    victims = {"delete": corpus / "sub" / "code.py", "change": corpus / "otters.txt"}

    def meddle(progress: IndexProgress) -> None:
        # After the first file, the ones still to come are deleted or rewritten.
        if progress.files_done == 1 and victims:
            victims.pop("delete").unlink()
            victims.pop("change").write_text("Otters changed their diet to frogs entirely.\n")

    [summary] = index_all(db, on_progress=meddle)
    assert not victims
    names = {Path(p).name for p in index.files(index.get("Busy").id)}
    assert "code.py" not in names
    retriever = Retriever(index)
    assert retriever.search(["Busy"], "frogs", 1, "bm25")[0].path.endswith("otters.txt")
    assert summary.skipped == []
    consistent(db)
    index.close()


def test_unreadable_file_is_listed(corpus: Path) -> None:
    # Outside pytest's private temporary folder, so an unprivileged user can reach it.
    work = Path(tempfile.mkdtemp(prefix="openweight-unreadable-"))
    try:
        folder = Path(shutil.copytree(corpus, work / "corpus"))
        secret = folder / "secret.txt"
        secret.write_text("private words")
        secret.chmod(0)
        db = work / "documents.sqlite3"
        DocumentIndex(db).create("Locked", [str(folder)])
        if os.geteuid() == 0:
            _index_as_nobody(work, db)  # root reads anything; a person's app runs as them
        else:
            index_all(db)
        index = DocumentIndex(db)
        reasons = dict(index.status("Locked").skipped)
        assert "permission denied" in reasons[str(secret)]
        assert index.status("Locked").files == 4
        index.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _index_as_nobody(work: Path, db: Path) -> None:
    import pypdfium2  # noqa: F401 - imported before the fork: the child cannot read the venv

    work.chmod(0o777)
    for p in work.rglob("*"):
        if not p.is_symlink() and p.name != "secret.txt":
            p.chmod(0o777 if p.is_dir() else 0o666)
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, index, leave without running pytest's exit code
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            IndexJob(db).run()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_cancel_and_pause(tmp_path: Path, corpus: Path) -> None:
    for i in range(30):
        shutil.copy(corpus / "otters.txt", corpus / f"copy{i}.txt")
    db = tmp_path / "documents.sqlite3"
    DocumentIndex(db).create("Many", [str(corpus)])
    job = IndexJob(db)
    states: list[str] = []

    def progress(p: IndexProgress) -> None:
        states.append(p.state)
        if p.files_done == 3:
            job.cancel()

    job.on_progress = progress
    [summary] = job.run()
    assert summary.cancelled and states[-1] == "cancelled"
    done = DocumentIndex(db).status("Many").files
    assert 3 <= done < 34
    [rest] = index_all(db)  # picks up where it stopped, redoing nothing
    assert rest.indexed == 34 - done and rest.unchanged == done
    consistent(db)

    for i in range(10):
        (corpus / f"more{i}.txt").write_text(f"Beavers build dam number {i}.\n")
    job = IndexJob(db)
    states.clear()

    def pause_once(p: IndexProgress) -> None:
        states.append(p.state)
        if p.files_done == 2 and not job.paused and "paused" not in states:
            job.pause()
            threading.Timer(0.3, job.resume).start()

    job.on_progress = pause_once
    [resumed] = job.run()
    assert "paused" in states and states[-1] == "done" and resumed.indexed == 10


def test_watcher_notices_a_change_while_running(tmp_path: Path, corpus: Path) -> None:
    db = tmp_path / "documents.sqlite3"
    DocumentIndex(db).create("Watched", [str(corpus)])
    index_all(db)
    noticed: list[list[str]] = []
    changed = threading.Event()

    def on_change(names: list[str]) -> None:
        noticed.append(names)
        changed.set()

    watcher = Watcher(db, on_change, interval=0.05)
    watcher.start()
    try:
        assert not changed.wait(0.3)  # nothing changed: nothing reported
        (corpus / "new.txt").write_text("Kingfishers dive for minnows.")
        assert changed.wait(10)
    finally:
        watcher.stop()
    assert noticed[0] == ["Watched"]
    [summary] = index_all(db)
    assert summary.indexed == 1
