"""The labelled questions for bench/docs.py: each answer lives on a known page of a PDF that
ships with Debian (shared-mime-info and libtasn1-6-doc). Questions are worded as a person
would ask them, not copied from the text, so keyword search alone does not find them all.
"""

from __future__ import annotations

MIME = "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"
ASN1 = "/usr/share/doc/libtasn1-doc/libtasn1.pdf"

# (question, file, pages where the answer is)
QUESTIONS: list[tuple[str, str, tuple[int, ...]]] = [
    ("Which version of the shared MIME database spec is this, and when was it last updated?",
     MIME, (1,)),
    ("Does the MIME database keep track of which program a user prefers?", MIME, (1, 17)),
    ("How are the words MUST and SHOULD meant to be read in this specification?", MIME, (2,)),
    ("What command has to be run after an application installs or changes its package file?",
     MIME, (3,)),
    ("Which file in a packages folder wins over every other file there?", MIME, (3,)),
    ("What are the default and the highest weight a filename pattern can have?", MIME, (4,)),
    ("Which namespace must the root element of the source XML files use?", MIME, (4,)),
    ("What other name is audio/midi also known by?", MIME, (5,)),
    ("What is the point of the expanded acronym elements?", MIME, (5,)),
    ("Can tree matching rules be placed inside one another?", MIME, (6,)),
    ("How is each line of the globs2 file laid out?", MIME, (7,)),
    ("Should filename patterns be compared without regard to upper and lower case?", MIME, (7,)),
    ("What should happen when two types claim the same extension, as with Ogg or AVI files?",
     MIME, (8,)),
    ("How is a request to discard earlier patterns written into globs2?", MIME, (8,)),
    ("What string does the binary magic file start with?", MIME, (9,)),
    ("In what byte order are numbers stored in the magic file?", MIME, (9,)),
    ("What does a line of the XML namespaces file look like?", MIME, (10,)),
    ("How are the icon files formatted?", MIME, (10,)),
    ("What does the memory-mappable cache file contain?", MIME, (11,)),
    ("Why do cache files have to be replaced in one step?", MIME, (13, 14)),
    ("Can a file's type be read from an extended attribute of the file system?", MIME, (14,)),
    ("Is every text type a subclass of plain text?", MIME, (14,)),
    ("How can a program tell whether a file holds binary data or text?", MIME, (15,)),
    ("How can you tell that a directory is a mount point?", MIME, (16,)),
    ("How do applications register to handle links such as mms:// addresses?", MIME, (16,)),
    ("Should people edit the database by hand to fix a wrong entry?", MIME, (17,)),
    ("Which encoding rules can the library encode and decode?", ASN1, (4,)),
    ("Are comments written like in C allowed in ASN.1 definition files?", ASN1, (5,)),
    ("Is the REAL type supported, and what about automatic tagging?", ASN1, (6,)),
    ("Which header file does a program include, and what is the main data type?", ASN1, (7,)),
    ("Which option makes the parser tool only check the syntax of a definitions file?",
     ASN1, (8,)),
    ("How do I make the decoding tool insist on strict DER?", ASN1, (10,)),
    ("Which function reads a file of ASN.1 declarations and builds the tree?", ASN1, (11,)),
    ("How do I create a new structure of a named type such as a certificate?", ASN1, (13,)),
    ("How can I copy a node together with everything below it?", ASN1, (14,)),
    ("How must a boolean value be given when writing an element?", ASN1, (15,)),
    ("What happens when reading a value into a buffer that is too small?", ASN1, (16, 17)),
]
