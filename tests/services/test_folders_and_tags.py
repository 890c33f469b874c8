"""Categories read as folders, and the tag facet's bound."""

from __future__ import annotations

from assembly_engine.services.assemblies.folders_and_tags import TAG_FACETS, in_folder, most_used_tags


def test_a_folder_holds_itself_and_what_lies_below_not_its_siblings() -> None:
    assert in_folder("Windows", "Windows")
    assert in_folder("Windows/Disk/Clean", "Windows")
    assert in_folder("Windows/Disk", "Windows/")
    assert not in_folder("Windows Server", "Windows")
    assert not in_folder("Win", "Windows")


def test_the_tag_facet_keeps_the_most_used_and_the_chosen_one() -> None:
    counts = {f"tag{index:03d}": index + 1 for index in range(TAG_FACETS + 20)}
    kept = most_used_tags(counts, "tag000")
    assert len(kept) == TAG_FACETS + 1
    assert kept["tag000"] == 1 and "tag001" not in kept
    assert list(kept) == sorted(kept)
    assert most_used_tags({}, "gone") == {"gone": 0}
