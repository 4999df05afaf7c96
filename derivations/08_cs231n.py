"""CS231n's assignment 1, the SVM and softmax notebooks, run on symgrad: only the import lines differ.

The cells below are the notebooks' (svm.ipynb, softmax.ipynb): the loss at a small random W, the sparse gradient
check without and with regularization, naive against vectorized, SGD training, the learning-rate and
regularization search on the validation split, and the test accuracy of the best model. The imports come from
``symgrad.cs231n`` instead of ``cs231n.classifiers`` and ``cs231n.gradient_check``, and the data are
scikit-learn's digits (``symgrad.load_digits_dataset()``: 8x8 images, D = 65 with the bias, C = 10) instead of
CIFAR-10 (D = 3073), so the learning rates and regularization strengths are the digits' (features in [-1, 1], not
raw pixels). Each gradient check prints the assignment's lines, then symgrad's verdict on the same function.
"""

import random
import time
from pathlib import Path

import numpy as np

import symgrad
from symgrad.cs231n import grad_check_sparse
from symgrad.cs231n import svm_loss_naive, svm_loss_vectorized
from symgrad.cs231n import softmax_loss_naive, softmax_loss_vectorized
from symgrad.cs231n import LinearSVM, Softmax

np.random.seed(231)
random.seed(231)   # grad_check_sparse draws its coordinates with Python's random, as the assignment's does

# ------------------------------------------------------------------- data (the notebooks load CIFAR-10 here)
data = symgrad.load_digits_dataset(rng=0)   # mean image subtracted, bias column appended, as the notebooks do
X_train, y_train = data.X_train, data.y_train
X_val, y_val = data.X_val, data.y_val
X_test, y_test = data.X_test, data.y_test
X_dev, y_dev = data.X_dev, data.y_dev
print('Training data shape: ', X_train.shape)
print('Validation data shape: ', X_val.shape)
print('Test data shape: ', X_test.shape)
print('dev data shape: ', X_dev.shape)
D, C = X_train.shape[1], data.num_classes

# ======================================================================================== svm.ipynb
print('\n==== svm.ipynb')
# generate a random SVM weight matrix of small numbers
W = np.random.randn(D, C) * 0.0001
loss, grad = svm_loss_naive(W, X_dev, y_dev, 0.000005)
print('loss: %f' % (loss, ))

# Numerically compute the gradient along several randomly chosen dimensions, and compare them with your
# analytically computed gradient.
print('\ngradient check, reg = 0:')
loss, grad = svm_loss_naive(W, X_dev, y_dev, 0.0)
f = lambda w: svm_loss_naive(w, X_dev, y_dev, 0.0)[0]
grad_numerical = grad_check_sparse(f, W, grad)

# do the gradient check once again with regularization turned on
print('\ngradient check, reg = 5e1:')
loss, grad = svm_loss_naive(W, X_dev, y_dev, 5e1)
f = lambda w: svm_loss_naive(w, X_dev, y_dev, 5e1)[0]
grad_numerical = grad_check_sparse(f, W, grad)

print()
tic = time.time()
loss_naive, grad_naive = svm_loss_naive(W, X_dev, y_dev, 0.000005)
toc = time.time()
print('Naive loss: %e computed in %fs' % (loss_naive, toc - tic))
tic = time.time()
loss_vectorized, _ = svm_loss_vectorized(W, X_dev, y_dev, 0.000005)
toc = time.time()
print('Vectorized loss: %e computed in %fs' % (loss_vectorized, toc - tic))
print('difference: %f' % (loss_naive - loss_vectorized))

tic = time.time()
_, grad_naive = svm_loss_naive(W, X_dev, y_dev, 0.000005)
toc = time.time()
print('Naive loss and gradient: computed in %fs' % (toc - tic))
tic = time.time()
_, grad_vectorized = svm_loss_vectorized(W, X_dev, y_dev, 0.000005)
toc = time.time()
print('Vectorized loss and gradient: computed in %fs' % (toc - tic))
difference = np.linalg.norm(grad_naive - grad_vectorized, ord='fro')
print('difference: %f' % difference)

print('\nStochastic gradient descent:')
svm = LinearSVM()
tic = time.time()
loss_hist = svm.train(X_train, y_train, learning_rate=1e-1, reg=1e-3, num_iters=1500, verbose=True)
toc = time.time()
print('That took %fs' % (toc - tic))
svm_loss_history = loss_hist

y_train_pred = svm.predict(X_train)
print('training accuracy: %f' % (np.mean(y_train == y_train_pred), ))
y_val_pred = svm.predict(X_val)
print('validation accuracy: %f' % (np.mean(y_val == y_val_pred), ))

# Use the validation set to tune hyperparameters (regularization strength and learning rate).
learning_rates = [5e-2, 2e-1]
regularization_strengths = [1e-4, 1e-3]
results = {}
best_val = -1
best_svm = None
for learning_rate in learning_rates:
    for regularization_strength in regularization_strengths:
        svm = LinearSVM()
        svm.train(X_train, y_train, learning_rate=learning_rate, reg=regularization_strength, num_iters=1500)
        train_accuracy = np.mean(y_train == svm.predict(X_train))
        val_accuracy = np.mean(y_val == svm.predict(X_val))
        results[(learning_rate, regularization_strength)] = (train_accuracy, val_accuracy)
        if val_accuracy > best_val:
            best_val, best_svm = val_accuracy, svm
for lr, reg in sorted(results):
    train_accuracy, val_accuracy = results[(lr, reg)]
    print('lr %e reg %e train accuracy: %f val accuracy: %f' % (lr, reg, train_accuracy, val_accuracy))
print('best validation accuracy achieved during cross-validation: %f' % best_val)

y_test_pred = best_svm.predict(X_test)
test_accuracy = np.mean(y_test == y_test_pred)
print('linear SVM on raw pixels final test set accuracy: %f' % test_accuracy)

# ==================================================================================== softmax.ipynb
print('\n==== softmax.ipynb')
W = np.random.randn(D, C) * 0.0001
loss, grad = softmax_loss_naive(W, X_dev, y_dev, 0.0)
# As a rough sanity check, our loss should be something close to -log(0.1).
print('loss: %f' % loss)
print('sanity check: %f' % (-np.log(0.1)))

print('\ngradient check, reg = 0:')
loss, grad = softmax_loss_naive(W, X_dev, y_dev, 0.0)
f = lambda w: softmax_loss_naive(w, X_dev, y_dev, 0.0)[0]
grad_numerical = grad_check_sparse(f, W, grad, 10)

print('\ngradient check, reg = 5e1:')
loss, grad = softmax_loss_naive(W, X_dev, y_dev, 5e1)
f = lambda w: softmax_loss_naive(w, X_dev, y_dev, 5e1)[0]
grad_numerical = grad_check_sparse(f, W, grad, 10)

print()
tic = time.time()
loss_naive, grad_naive = softmax_loss_naive(W, X_dev, y_dev, 0.000005)
toc = time.time()
print('naive loss: %e computed in %fs' % (loss_naive, toc - tic))
tic = time.time()
loss_vectorized, grad_vectorized = softmax_loss_vectorized(W, X_dev, y_dev, 0.000005)
toc = time.time()
print('vectorized loss: %e computed in %fs' % (loss_vectorized, toc - tic))
grad_difference = np.linalg.norm(grad_naive - grad_vectorized, ord='fro')
print('Loss difference: %f' % np.abs(loss_naive - loss_vectorized))
print('Gradient difference: %f' % grad_difference)

results = {}
best_val = -1
best_softmax = None
learning_rates = [5e-2, 2e-1]
regularization_strengths = [1e-4, 1e-3]
for learning_rate in learning_rates:
    for regularization_strength in regularization_strengths:
        softmax = Softmax()
        loss_history = softmax.train(X_train, y_train, learning_rate=learning_rate, reg=regularization_strength,
                                     num_iters=1500)
        train_accuracy = np.mean(y_train == softmax.predict(X_train))
        val_accuracy = np.mean(y_val == softmax.predict(X_val))
        results[(learning_rate, regularization_strength)] = (train_accuracy, val_accuracy)
        if val_accuracy > best_val:
            best_val, best_softmax, softmax_loss_history = val_accuracy, softmax, loss_history
for lr, reg in sorted(results):
    train_accuracy, val_accuracy = results[(lr, reg)]
    print('lr %e reg %e train accuracy: %f val accuracy: %f' % (lr, reg, train_accuracy, val_accuracy))
print('best validation accuracy achieved during cross-validation: %f' % best_val)

y_test_pred = best_softmax.predict(X_test)
test_accuracy = np.mean(y_test == y_test_pred)
print('softmax on raw pixels final test set accuracy: %f' % (test_accuracy, ))

# ----------------------------------------------------- the notebooks' loss plot, saved instead of shown
try:
    from matplotlib.figure import Figure
except ImportError:
    print("\nmatplotlib is not installed (pip install 'symgrad[plot]'): no figure")
else:
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(svm_loss_history, linewidth=0.8, label="LinearSVM: multiclass SVM\n(lr 1e-1, reg 1e-3)")
    axes.plot(softmax_loss_history, linewidth=0.8, linestyle="--",
              label="Softmax: cross-entropy\n(best on validation)")
    axes.set(xlabel="Iteration number", yscale="log",
             ylabel="Loss value: data loss + regularization\n(on each step's batch of 200)",
             title="symgrad.cs231n: multiclass SVM and softmax, SGD (batch 200 drawn with replacement)\n"
                   "scikit-learn's digits (8x8, D = 65), training split")
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    output = Path("figures") / "cs231n_loss_history.png"
    output.parent.mkdir(exist_ok=True)
    figure.savefig(output, dpi=100)
    print(f"\nwrote {output}")
