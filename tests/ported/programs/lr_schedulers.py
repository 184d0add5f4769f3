"""LR schedulers: the seed notes' StepLR loop (200 epochs), recorded with get_last_lr() and
plotted; then the other classic schedules, printed epoch by epoch.

The printed learning rates must equal PyTorch's number for number.
"""

import os

import matplotlib.pyplot as plt  # the test runs this with MPLBACKEND=Agg (no window)
import torch
import torch.optim as optim

LR = 0.1
iteration = 10
max_epoch = 200

# --------- fake data and optimizer ---------
weights = torch.tensor([0.7652], requires_grad=True)
target = torch.zeros(1)

optimizer = optim.SGD([weights], lr=LR, momentum=0.9)

# ---------------- 1 Step LR --------
scheduler_lr = optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.1)

lr_list, epoch_list = list(), list()
for epoch in range(max_epoch):
    lr_list.append(scheduler_lr.get_last_lr())
    epoch_list.append(epoch)

    for _ in range(iteration):
        loss = torch.pow((weights - target), 2)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    scheduler_lr.step()

print("StepLR", lr_list)
print("epochs", epoch_list[0], epoch_list[-1], len(epoch_list))
print(f"weight after training: {weights.item():.3e}")

plt.plot(epoch_list, lr_list, label="Step LR Scheduler")
plt.xlabel("Epoch")
plt.ylabel("Learning rate")
plt.legend()
plt.savefig("step_lr.png")
print("plot written:", os.path.getsize("step_lr.png") > 1000)


def record(make_scheduler, epochs=30, metrics=None):
    """The LRs a scheduler gives, one per epoch (optimizer.step() before scheduler.step())."""
    w = torch.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=LR, momentum=0.9)
    sched = make_scheduler(opt)
    lrs = []
    for epoch in range(epochs):
        lrs.append(sched.get_last_lr()[0] if metrics is None else opt.param_groups[0]["lr"])
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
    return lrs


print("MultiStepLR", record(lambda o: optim.lr_scheduler.MultiStepLR(o, milestones=[5, 12, 20],
                                                                    gamma=0.5)))
print("ExponentialLR", record(lambda o: optim.lr_scheduler.ExponentialLR(o, gamma=0.9)))
print("CosineAnnealingLR", record(lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=10,
                                                                                eta_min=0.001)))
print("LambdaLR", record(lambda o: optim.lr_scheduler.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e)))
print("ReduceLROnPlateau", record(lambda o: optim.lr_scheduler.ReduceLROnPlateau(
    o, mode="min", factor=0.5, patience=2), metrics=[1.0] * 3 + [0.5] * 12 + [0.4] * 15))
print("LinearLR", record(lambda o: optim.lr_scheduler.LinearLR(o, start_factor=0.25,
                                                              total_iters=8)))
print("OneCycleLR", record(lambda o: optim.lr_scheduler.OneCycleLR(o, max_lr=1.0,
                                                                  total_steps=30)))
print("CosineAnnealingWarmRestarts", record(
    lambda o: optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2)))
print("SequentialLR", record(lambda o: optim.lr_scheduler.SequentialLR(
    o, [optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5),
        optim.lr_scheduler.ExponentialLR(o, gamma=0.8)], milestones=[5])))
print("CyclicLR", record(lambda o: optim.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                              step_size_up=4)))
