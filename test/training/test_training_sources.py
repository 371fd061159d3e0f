"""The recipe's source kinds (training.data.sources): their names, options and refusals. The readers
behind them are tested in test/datasets."""
import pytest

from fcot_ros.errors import DatasetError
from training.data.sources import SOURCES, load_source, source_options


def test_registry_refuses_unknown_kinds_and_options(tmp_path):
    assert set(SOURCES) == {"got10k", "lasot", "trackingnet", "coco", "folder", "rosbag"}
    assert source_options("coco") == ["split", "min_area"]
    with pytest.raises(DatasetError, match="unknown training source 'imagenet'; valid sources: got10k, lasot"):
        load_source("imagenet", tmp_path)
    with pytest.raises(DatasetError, match="got10k: unknown option.s. chunks; valid options: split, sequence_list"):
        load_source("got10k", tmp_path, chunks=[0])
    with pytest.raises(DatasetError, match="folder: unknown option.s. split; valid options: none"):
        load_source("folder", tmp_path, split="train")


def test_recipe_kinds_read_the_train_splits(tmp_path):
    """``lasot`` / ``trackingnet`` in a recipe are the train splits (``fcot eval`` reads the test splits
    under those names): the recipe's options are theirs, and their refusals name the train layout."""
    assert source_options("lasot") == ["split_file"] and source_options("trackingnet") == ["chunks"]
    assert source_options("rosbag") == ["topic", "groundtruth", "cache_dir"]
    with pytest.raises(DatasetError, match="no split file: .*training_set.txt not found"):
        load_source("lasot", tmp_path)
    with pytest.raises(DatasetError, match="no TRAIN_<k> folder"):
        load_source("trackingnet", tmp_path)
