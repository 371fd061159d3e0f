"""Labels of the online regression loss: which cells of the stride-4 map carry a residual, and the
distances (left, right, top, bottom) to the box sides each of them should predict.

Two conventions (``LABEL_CONVENTIONS``):

- ``"fcot_ros"`` (ours): the centre cell is (row, col) = (floor(cy / s), floor(cx / s)), clamped into
  the grid; the (2R+1)^2 cells around it are labelled with float distances from that cell,
  (col - x1 / s, x2 / s - col, row - y1 / s, y2 / s - row), in grid cells.
- ``"authors"`` (the authors' ``generate_w2h2_label``, for ``compat="authors"``): box edges and centre
  are truncated to integers (``int()``), the label is written with row and column swapped (row =
  x, col = y) and integer distances; an offset of the (2R+1)^2 neighbourhood is dropped for every
  sample at once when any sample has a distance <= 0 there or falls outside the grid.

Shapes: boxes (N, S, 4) xywh in crop pixels; masks (N, S, 1, h, w) in {0, 1} and targets
(N, S, 4, h, w) on the whole (H, W) grid or on L x L windows around each sample's label cell.
"""
import torch

LABEL_CONVENTIONS = ("fcot_ros", "authors")


def check_convention(convention):
    """Raise ValueError unless ``convention`` is one of LABEL_CONVENTIONS."""
    if convention not in LABEL_CONVENTIONS:
        raise ValueError(f"regression label convention must be one of {LABEL_CONVENTIONS}, not {convention!r}")


def centre_cells(boxes, stride, grid_size):
    """Integer (row, col) cell of each box centre on the (H, W) grid: (N, S) long tensors."""
    h, w = grid_size
    cx = torch.floor((boxes[..., 0] + 0.5 * boxes[..., 2]) / stride).clamp(0, w - 1)
    cy = torch.floor((boxes[..., 1] + 0.5 * boxes[..., 3]) / stride).clamp(0, h - 1)
    return cy.long(), cx.long()


def _authors_edges(boxes, stride):
    """The authors' integer-truncated centre and edges: (cx, cy, left, top, right, bottom) (N, S)."""
    trunc = torch.trunc
    cx = trunc((boxes[..., 0] + 0.5 * boxes[..., 2]) / stride)
    cy = trunc((boxes[..., 1] + 0.5 * boxes[..., 3]) / stride)
    left, top = trunc(boxes[..., 0] / stride), trunc(boxes[..., 1] / stride)
    right, bottom = trunc((boxes[..., 0] + boxes[..., 2]) / stride), trunc((boxes[..., 1] + boxes[..., 3]) / stride)
    return cx, cy, left, top, right, bottom


def label_cells(boxes, stride, grid_size, convention="fcot_ros"):
    """(row, col) (N, S) long: the cell each sample's label is centred on, clamped into the grid
    (the centre of its loss window). Authors: row = truncated x, col = truncated y."""
    check_convention(convention)
    if convention == "fcot_ros":
        return centre_cells(boxes, stride, grid_size)
    h, w = grid_size
    cx, cy = _authors_edges(boxes, stride)[:2]
    return cx.clamp(0, h - 1).long(), cy.clamp(0, w - 1).long()


def _cell_coordinates(boxes, grid_size, window, rows0, cols0):
    """Row and column indices of the cells the label is computed on: (N,S,h,1) and (N,S,1,w) float,
    and a bool (N,S,h,w) of those inside the grid."""
    h, w = grid_size
    if window is None:
        rows = torch.arange(h, dtype=boxes.dtype, device=boxes.device).view(1, 1, h, 1).expand(*boxes.shape[:2], h, 1)
        cols = torch.arange(w, dtype=boxes.dtype, device=boxes.device).view(1, 1, 1, w).expand(*boxes.shape[:2], 1, w)
        return rows, cols, torch.ones(*boxes.shape[:2], h, w, dtype=torch.bool, device=boxes.device)
    offsets = torch.arange(window, dtype=boxes.dtype, device=boxes.device) - window // 2
    rows = rows0.to(boxes.dtype)[..., None, None] + offsets.view(1, 1, window, 1)
    cols = cols0.to(boxes.dtype)[..., None, None] + offsets.view(1, 1, 1, window)
    inside = (rows >= 0) & (rows <= h - 1) & (cols >= 0) & (cols <= w - 1)
    return rows, cols, inside


def regression_targets(boxes, stride, grid_size, radius=0, window=None, convention="fcot_ros"):
    """Mask (N, S, 1, h, w) and targets (N, S, 4, h, w) of the online regression loss (module doc).

    Without ``window``: maps over the whole (H, W) = grid_size grid. With ``window`` = L: the L x L
    cells centred on each sample's ``label_cells`` cell (cell (0, 0) of the window is grid cell
    (row - L // 2, col - L // 2); cells outside the grid are masked out).
    """
    check_convention(convention)
    rows0, cols0 = label_cells(boxes, stride, grid_size, convention)
    rows, cols, inside = _cell_coordinates(boxes, grid_size, window, rows0, cols0)
    if convention == "fcot_ros":
        x1, y1 = boxes[..., 0] / stride, boxes[..., 1] / stride
        x2, y2 = (boxes[..., 0] + boxes[..., 2]) / stride, (boxes[..., 1] + boxes[..., 3]) / stride
        cy, cx = rows0.to(boxes.dtype)[..., None, None], cols0.to(boxes.dtype)[..., None, None]
        mask = ((cols - cx).abs() <= radius) & ((rows - cy).abs() <= radius) & inside
        xs, ys = cols, rows
    else:
        cx, cy, x1, y1, x2, y2 = _authors_edges(boxes, stride)
        # the authors' map is transposed: its rows run along x, its columns along y
        xs, ys = rows, cols
        dx, dy = xs - cx[..., None, None], ys - cy[..., None, None]
        mask = (dx.abs() <= radius) & (dy.abs() <= radius) & inside & _authors_valid_offsets(
            cx, cy, x1, y1, x2, y2, grid_size, radius, dx, dy)
    shape = mask.shape
    targets = torch.stack([(xs - x1[..., None, None]).expand(shape), (x2[..., None, None] - xs).expand(shape),
                           (ys - y1[..., None, None]).expand(shape), (y2[..., None, None] - ys).expand(shape)],
                          dim=2)
    return mask.unsqueeze(2).to(boxes.dtype), targets


def _authors_valid_offsets(cx, cy, x1, y1, x2, y2, grid_size, radius, dx, dy):
    """(N, S, h, w) bool: the authors keep the offset (dx, dy) of a cell only when it is valid for
    every sample at once (all four distances > 0 and the labelled cell inside the grid)."""
    h, w = grid_size
    side = 2 * radius + 1
    table = torch.zeros(side, side, dtype=torch.bool, device=cx.device)
    for i, ox in enumerate(range(-radius, radius + 1)):
        for j, oy in enumerate(range(-radius, radius + 1)):
            px, py = cx + ox, cy + oy
            table[i, j] = bool(((px - x1) > 0).all() and ((x2 - px) > 0).all() and ((py - y1) > 0).all()
                               and ((y2 - py) > 0).all() and (px >= 0).all() and (px < h).all()
                               and (py >= 0).all() and (py < w).all())
    ix = (dx + radius).clamp(0, side - 1).long()
    iy = (dy + radius).clamp(0, side - 1).long()
    return table[ix, iy]


def crop_windows(feat, rows, cols, window):
    """L x L windows of the feature maps centred on cells (rows, cols), zero outside the maps.

    feat (N, S, C, H, W); rows, cols (N, S) long -> (N, S, C, L, L); cell (0, 0) of a window is map
    cell (row - L // 2, col - L // 2). Differentiable w.r.t. feat.
    """
    n, s, c, h, w = feat.shape
    offsets = torch.arange(window, device=feat.device) - window // 2
    r = rows[..., None] + offsets                                  # (N, S, L)
    q = cols[..., None] + offsets
    valid = ((r >= 0) & (r < h))[..., :, None] & ((q >= 0) & (q < w))[..., None, :]
    n_idx = torch.arange(n, device=feat.device).view(n, 1, 1, 1)
    s_idx = torch.arange(s, device=feat.device).view(1, s, 1, 1)
    out = feat[n_idx, s_idx, :, r.clamp(0, h - 1)[..., :, None], q.clamp(0, w - 1)[..., None, :]]
    return out.permute(0, 1, 4, 2, 3) * valid.unsqueeze(2).to(feat.dtype)   # (N, S, L, L, C) -> (N, S, C, L, L)
