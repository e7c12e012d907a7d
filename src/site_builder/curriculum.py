"""The course plan: every day's topic in English and in the original Chinese.

Source: ../shared/curriculum.md (the author's original plan, quoted there unchanged).
The home page lists every day; those whose lesson exists are linked, the others are
marked as coming.
"""

from __future__ import annotations

DAYS: dict[int, tuple[str, str]] = {
    1: ("Getting started: a beginner template for Google Colab", "初學者入門範本"),
    2: ("Tensors: basics and advanced operations", "Tensor 基礎與進階操作"),
    3: ("Autograd", "Autograd 自動微分"),
    4: ("CUDA / GPU", "CUDA/GPU 操作"),
    5: ("Dataset and DataLoader", "Dataset & DataLoader"),
    6: ("The complete training workflow", "完整訓練流程整合"),
    7: ("Nonlinear data and controlling overfitting", "非線性資料建模與過擬合控制"),
    8: ("Training and validation together", "訓練與驗證流程整合"),
    9: ("Saving and loading models", "模型儲存與載入"),
    10: ("Exercise: MNIST handwritten digits, end to end", "練習：MNIST 手寫辨識全流程實作"),
    11: ("Convolution and pooling layers", "卷積層與池化層"),
    12: ("Dropout and regularisation techniques", "Dropout 與正規化技巧"),
    13: ("Advanced CNN architectures", "CNN 架構進階實作"),
    14: ("CIFAR-10 in practice", "CIFAR-10 實作"),
    15: ("Learning-rate schedules", "學習率調整策略"),
    16: ("Advanced visualisation: Grad-CAM and feature maps", "視覺化進階"),
    17: ("Transfer learning", "Transfer Learning 實作"),
    18: ("Early stopping and generalisation", "Early Stopping 與模型泛化"),
    19: ("Test-set inference and exporting models", "測試集推論與導出模型"),
    20: ("Small project planning and tuning", "小型專題規劃與模型調參"),
    21: ("Project validation and demonstration", "專題驗證與推論展示"),
    22: ("PyTorch Lightning introduction", "PyTorch Lightning 簡介"),
    23: ("Project ideas and dataset preparation", "小專題構想與資料集準備"),
    24: ("Project implementation", "小專題實作"),
    25: ("Summary and next steps", "專題總結與下一步"),
}
