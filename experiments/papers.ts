/**
 * The 45 papers of genlab's literature (../shared/papers/README.md, seed order): number, title, class
 * (A: faithful at small scale; B: only a scaled analog; C: needs large models, mechanism on a small analog)
 * and group. The report lists every one, implemented or not.
 */
export type Paper = { number: number; title: string; short: string; paperClass: string; group: string };

export const PAPERS: Paper[] = [
  {number: 1, title: "Fantastic Generalization Measures are Nowhere to be Found", short: "Fantastic Generalization Measures are Nowhere to be Found", paperClass: "A", group: "measures & bounds"},
  {number: 2, title: "Does Learning Require Memorization? A Short Tale about a Long Tail", short: "Does Learning Require Memorization? (long tail)", paperClass: "A", group: "memorization & grokking; data scores"},
  {number: 3, title: "On the Generalization Mystery in Deep Learning", short: "On the Generalization Mystery (gradient coherence)", paperClass: "A", group: "memorization & grokking"},
  {number: 4, title: "The Universality Lens: Why Even Highly Over-Parametrized Models Learn Well", short: "The Universality Lens (Bayesian mixture, SGLD)", paperClass: "A", group: "theory"},
  {number: 5, title: "High-dimensional dynamics of generalization error in neural networks", short: "High-dimensional dynamics of generalization error", paperClass: "A", group: "theory"},
  {number: 6, title: "Towards Exact Computation of Inductive Bias", short: "Towards Exact Computation of Inductive Bias", paperClass: "A", group: "theory"},
  {number: 7, title: "Data Factors for Better Compositional Generalization", short: "Data Factors for Better Compositional Generalization", paperClass: "B", group: "sequence tasks"},
  {number: 8, title: "General-Purpose In-Context Learning by Meta-Learning Transformers (GPICL)", short: "General-Purpose In-Context Learning by Meta-Learning Transformers", paperClass: "B", group: "sequence tasks"},
  {number: 9, title: "Weight Compander: A Simple Weight Reparameterization for Regularization", short: "Weight Compander", paperClass: "A", group: "regularizers"},
  {number: 10, title: "Where to find Grokking in LLM Pretraining? Monitor Memorization-to-Generalization without Test", short: "Where to find Grokking in LLM Pretraining? (pathway metrics)", paperClass: "C→B", group: "memorization & grokking"},
  {number: 11, title: "Retrieval-Augmented Meta Learning for Low-Resource Text Classification (RAML)", short: "Retrieval-Augmented Meta Learning (RAML)", paperClass: "C→B", group: "scaled analogs"},
  {number: 12, title: "Benign Overfitting and Grokking in ReLU Networks for XOR Cluster Data", short: "Benign Overfitting and Grokking in ReLU Networks for XOR Cluster Data", paperClass: "A", group: "memorization & grokking"},
  {number: 13, title: "Deep Learning on a Data Diet: Finding Important Examples Early in Training", short: "Deep Learning on a Data Diet (EL2N, GraNd)", paperClass: "A", group: "data scores"},
  {number: 14, title: "Cross-Task Generalization via Natural Language Crowdsourcing Instructions", short: "Cross-Task Generalization via Natural Language Instructions", paperClass: "C→B", group: "scaled analogs"},
  {number: 15, title: "Model-agnostic Measure of Generalization Difficulty", short: "Model-agnostic Measure of Generalization Difficulty", paperClass: "A", group: "theory"},
  {number: 16, title: "More is Better in Modern Machine Learning: when Infinite Overparameterization is Optimal and Overfitting is Obligatory", short: "More is Better (random-feature regression)", paperClass: "A", group: "theory"},
  {number: 17, title: "The Hyperfitting Phenomenon: Sharpening and Stabilizing LLMs for Open-Ended Text Generation", short: "The Hyperfitting Phenomenon", paperClass: "C→B", group: "scaled analogs"},
  {number: 18, title: "Beyond Finite Data: Towards Data-free Out-of-distribution Generalization via Extrapolation", short: "Beyond Finite Data (data-free OOD by extrapolation)", paperClass: "C→B", group: "scaled analogs"},
  {number: 19, title: "On the Provable Advantage of Unsupervised Pretraining", short: "On the Provable Advantage of Unsupervised Pretraining", paperClass: "A", group: "theory"},
  {number: 20, title: "LEVI: Generalizable Fine-tuning via Layer-wise Ensemble of Different Views", short: "LEVI (layer-wise ensemble fine-tuning)", paperClass: "C→B", group: "scaled analogs"},
  {number: 21, title: "What Algorithms can Transformers Learn? A Study in Length Generalization", short: "What Algorithms can Transformers Learn? (length generalization, RASP)", paperClass: "B", group: "sequence tasks"},
  {number: 22, title: "Global Convergence of Sub-gradient Method for Robust Matrix Recovery: Small Initialization, Noisy Measurements, and Over-parameterization", short: "Sub-gradient Method for Robust Matrix Recovery (small init)", paperClass: "A", group: "theory"},
  {number: 23, title: "Rich Feature Construction for the Optimization-Generalization Dilemma (Zhang, Lopez-Paz, Bottou; ICML 2022; arXiv:2203.15516)", short: "Rich Feature Construction (Bonsai)", paperClass: "B", group: "simplicity bias & OOD"},
  {number: 24, title: "Chameleon: A Data-Efficient Generalist for Dense Visual Prediction in the Wild (Kim, Cho, Kim, Luo, Hong; ECCV 2024 oral; arXiv:2404.18459)", short: "Chameleon (data-efficient dense prediction)", paperClass: "C", group: "scaled analogs"},
  {number: 25, title: "Grokking as the Transition from Lazy to Rich Training Dynamics (Kumar, Bordelon, Gershman, Pehlevan; ICLR 2024; arXiv:2310.06110)", short: "Grokking as the Transition from Lazy to Rich Training Dynamics", paperClass: "A", group: "memorization & grokking"},
  {number: 26, title: "Understanding prompt engineering may not require rethinking generalization (Akinwande, Jiang, Sam, Kolter; ICLR 2024; arXiv:2310.03957)", short: "Understanding prompt engineering may not require rethinking generalization (PAC-Bayes)", paperClass: "C (bounds: A)", group: "measures & bounds"},
  {number: 27, title: "To grok or not to grok: Disentangling generalization and memorization on corrupted algorithmic datasets (Doshi, Das, He, Gromov; ICLR 2024; arXiv:2310.13061)", short: "To grok or not to grok (corrupted modular arithmetic)", paperClass: "A", group: "foundation (clean case); memorization & grokking"},
  {number: 28, title: "Only-IF: Revealing the Decisive Effect of Instruction Diversity on Generalization (Zhang, Wang, Charton; arXiv:2410.04717, v3 Oct 2024)", short: "Only-IF: instruction diversity", paperClass: "B", group: "scaled analogs"},
  {number: 29, title: "Provably Mitigating Overoptimization in RLHF: Your SFT Loss is Implicitly an Adversarial Regularizer (Liu, Lu, Zhang, Liu, Guo, Yang, Blanchet, Wang; NeurIPS 2024; arXiv:2405.16436)", short: "Provably Mitigating Overoptimization in RLHF (RPO)", paperClass: "C (mechanism: A)", group: "scaled analogs"},
  {number: 30, title: "On the Limitations of Temperature Scaling for Distributions with Overlaps (Chidambaram, Ge; ICLR 2024; arXiv:2306.00740)", short: "On the Limitations of Temperature Scaling (mixup calibration)", paperClass: "A", group: "measures & bounds"},
  {number: 31, title: "Grokked Transformers are Implicit Reasoners: A Mechanistic Journey to the Edge of Generalization (Wang, Yue, Su, Sun; NeurIPS 2024; arXiv:2405.15071)", short: "Grokked Transformers are Implicit Reasoners", paperClass: "B", group: "memorization & grokking"},
  {number: 32, title: "Domain-Specific Risk Minimization for Out-of-Distribution Generalization (Zhang, Wang, Liang, Zhang, Yu, Wang, Tao, Xie; KDD 2023; arXiv:2208.08661)", short: "Domain-Specific Risk Minimization (DRM)", paperClass: "B", group: "simplicity bias & OOD"},
  {number: 33, title: "Changing the Training Data Distribution to Reduce Simplicity Bias Improves In-distribution Generalization — \"USEFUL\" (Nguyen, Haddad, Gan, Mirzasoleiman; NeurIPS 2024; arXiv:2404.17768)", short: "Changing the Training Data Distribution to Reduce Simplicity Bias (USEFUL)", paperClass: "B", group: "data scores"},
  {number: 34, title: "Improving Few-Shot Generalization by Exploring and Exploiting Auxiliary Data — EXP3-FLAD / UCB1-FLAD (Albalak, Raffel, Wang; NeurIPS 2023)", short: "Improving Few-Shot Generalization with Auxiliary Data (EXP3/UCB1-FLAD)", paperClass: "C (bandits: A)", group: "scaled analogs"},
  {number: 35, title: "Learn to Preserve and Diversify: Parameter-Efficient Group with Orthogonal Regularization for Domain Generalization — PEGO (Hu et al.; ECCV 2024; arXiv:2407.15085)", short: "PEGO (LoRA groups with orthogonal regularization)", paperClass: "C→B", group: "scaled analogs"},
  {number: 36, title: "Feature Learning in Infinite-Width Neural Networks — Tensor Programs IV (Yang, Hu; ICML 2021; arXiv:2011.14522)", short: "Feature Learning in Infinite-Width Neural Networks (μP)", paperClass: "A", group: "theory"},
  {number: 37, title: "Wasserstein Dependency Measure for Representation Learning (Ozair, Lynch, Bengio, van den Oord, Levine, Sermanet; NeurIPS 2019; arXiv:1903.11780)", short: "Wasserstein Dependency Measure for Representation Learning", paperClass: "B", group: "simplicity bias & OOD"},
  {number: 38, title: "Training the Untrainable: Introducing Inductive Bias via Representational Alignment — \"guidance\" (Subramaniam, Mayo, Conwell, Poggio, Katz, Cheung, Barbu; NeurIPS 2025; arXiv:2410.20035)", short: "Training the Untrainable (guidance by representational alignment)", paperClass: "B", group: "simplicity bias & OOD"},
  {number: 39, title: "Selective Self-to-Supervised Fine-Tuning for Generalization in Large Language Models — S3FT (Gupta, Nandwani, Yehudai, Khandelwal, Raghu, Joshi; NAACL Findings 2025; arXiv:2502.08130)", short: "Selective Self-to-Supervised Fine-Tuning (S3FT)", paperClass: "C→B", group: "scaled analogs"},
  {number: 40, title: "What Can Be Learnt With Wide Convolutional Neural Networks? (Cagnetta, Favero, Wyart; ICML 2023; arXiv:2208.01003)", short: "What Can Be Learnt With Wide Convolutional Neural Networks?", paperClass: "A", group: "theory"},
  {number: 41, title: "Towards a Unified View of Parameter-Efficient Transfer Learning (He, Zhou, Ma, Berg-Kirkpatrick, Neubig; ICLR 2022; arXiv:2110.04366)", short: "Towards a Unified View of Parameter-Efficient Transfer Learning", paperClass: "C (identity: A)", group: "scaled analogs"},
  {number: 42, title: "A Closer Look at Rehearsal-Free Continual Learning (Smith, Tian, Halbe, Hsu, Kira; CVPR Workshops 2023; arXiv:2203.17269)", short: "A Closer Look at Rehearsal-Free Continual Learning", paperClass: "B", group: "simplicity bias & OOD"},
  {number: 43, title: "Neural Network-Based Score Estimation in Diffusion Models: Optimization and Generalization (Han, Razaviyayn, Xu; ICML 2024; arXiv:2401.15604, v4 Apr 2026)", short: "Neural Network-Based Score Estimation in Diffusion Models", paperClass: "A", group: "theory"},
  {number: 44, title: "Transformers as Support Vector Machines (Tarzanagh, Li, Thrampoulidis, Oymak; NeurIPS 2023; arXiv:2308.16898)", short: "Transformers as Support Vector Machines", paperClass: "A", group: "theory"},
  {number: 45, title: "The Pitfalls of Simplicity Bias in Neural Networks (Shah, Tamuly, Raghunathan, Jain, Netrapalli; NeurIPS 2020; arXiv:2006.07710)", short: "The Pitfalls of Simplicity Bias in Neural Networks", paperClass: "A", group: "simplicity bias & OOD"},
];

export const CLASS_MEANING: Record<string, string> = {
  A: "faithful at small scale in minutes on a CPU",
  B: "only a scaled analog is possible; what is lost is stated",
  C: "needs large or pretrained models; the mechanism runs on a small analog",
};
